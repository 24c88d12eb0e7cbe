// The transaction layer's stores of keys for transactions that are over (engine/transaction/linger.ts): a key is
// kept at least its lifetime and at most a quarter more, however often or seldom the store is used; an ACK kept
// is a copy of its own and comes back whole with its destination; every key added is found and none that was not.

import t from 'tap';
import { LingeringAcks, LingeringKeys } from '../../engine/transaction/linger.js';

const dest = { protocol: 'udp' as const, host: '127.0.0.1', port: 5060 };
const ackOf = (i: number) => Buffer.from(`ACK sip:bob@example.com SIP/2.0\r\nCSeq: ${i} ACK\r\n\r\n`);

t.test("Timer M's ACKs: kept their lifetime, gone within a quarter more", async (t) => {
  for (const every of [1, 50, 400]) {
    let now = 0;
    const acks = new LingeringAcks(() => now, 1000);
    acks.add('z9hG4bK1', ackOf(1), dest);
    let lastSeen = 0;
    for (now = every; now <= 3000; now += every) if (acks.get('z9hG4bK1')) lastSeen = now;
    t.ok(lastSeen >= 1000 - every + 1 && lastSeen <= 1250, `looked up every ${every} ms: last seen at ${lastSeen} ms`);
  }
  let now = 0;
  const acks = new LingeringAcks(() => now, 1000);
  acks.add('z9hG4bK2', ackOf(2), dest);
  now = 1000;
  t.ok(acks.get('z9hG4bK2'), 'a store not used since keeps the ACK its lifetime');
  now = 1251;
  t.equal(acks.get('z9hG4bK2'), undefined, 'and lets it go after a quarter more');
});

t.test("Timer M's ACKs: each its own bytes and destination, through growing tables and arenas", async (t) => {
  let now = 0;
  const acks = new LingeringAcks(() => now, 32_000);
  const dests = [dest, { protocol: 'tcp' as const, host: '::1', port: 5070 }];
  const written = ackOf(0);
  acks.add('z9hG4bK-copy', written, dest);
  written.fill(0x20);
  t.equal(acks.get('z9hG4bK-copy')!.ack.toString(), ackOf(0).toString(), 'a copy: the original may be written over');
  // 2,000 a second for 20 s: about 70 bytes an ACK, 40,000 of them, tables and arenas doubling in every bucket.
  for (let i = 0; i < 40_000; i++) {
    now = i / 2;
    acks.add(`z9hG4bK-${i.toString(36)}`, ackOf(i), dests[i % 2]!);
  }
  let wrong = 0;
  for (let i = 0; i < 40_000; i++) {
    const got = acks.get(`z9hG4bK-${i.toString(36)}`);
    if (!got || !got.ack.equals(ackOf(i)) || got.dest !== dests[i % 2]) wrong++;
  }
  t.equal(wrong, 0, 'every ACK comes back whole, with its destination');
  t.equal(acks.get('z9hG4bK-none'), undefined, 'a branch never added has none');
});

t.test("Timer K's keys: kept their lifetime, gone within a quarter more", async (t) => {
  for (const every of [1, 50, 400]) {
    let now = 0;
    const keys = new LingeringKeys(() => now, 1000);
    keys.add('z9hG4bK1', 'OPTIONS');
    let lastSeen = 0;
    for (now = every; now <= 3000; now += every) if (keys.has('z9hG4bK1', 'OPTIONS')) lastSeen = now;
    t.ok(lastSeen >= 1000 - every + 1 && lastSeen <= 1250, `looked up every ${every} ms: last seen at ${lastSeen} ms`);
  }
  let now = 0;
  const keys = new LingeringKeys(() => now, 1000);
  keys.add('z9hG4bK2', 'BYE');
  now = 1000;
  t.ok(keys.has('z9hG4bK2', 'BYE'), 'a store not used since keeps the key its lifetime');
  now = 1251;
  t.notOk(keys.has('z9hG4bK2', 'BYE'), 'and lets it go after a quarter more');
});

t.test("Timer K's keys: 200,000 added over growing buckets are all found, 200,000 others none", async (t) => {
  let now = 0;
  const keys = new LingeringKeys(() => now, 5000);
  const methods = ['OPTIONS', 'BYE', 'REGISTER', 'MESSAGE'];
  // 10,000 a second for 20 s of a 5 s lifetime: buckets open, grow and go.
  for (let i = 0; i < 200_000; i++) {
    now = i / 10;
    keys.add(`z9hG4bK-${i.toString(36)}-a`, methods[i % 4]!);
  }
  let missing = 0;
  for (let i = 150_001; i < 200_000; i++) if (!keys.has(`z9hG4bK-${i.toString(36)}-a`, methods[i % 4]!)) missing++;
  t.equal(missing, 0, 'every key of the last 5 s is there');
  let gone = 0;
  for (let i = 0; i < 130_000; i++) if (!keys.has(`z9hG4bK-${i.toString(36)}-a`, methods[i % 4]!)) gone++;
  t.equal(gone, 130_000, 'every key older than 6.25 s is gone');
  let found = 0;
  for (let i = 150_001; i < 200_000; i++) {
    if (keys.has(`z9hG4bK-${i.toString(36)}-b`, methods[i % 4]!)) found++; // another branch
    if (keys.has(`z9hG4bK-${i.toString(36)}-a`, methods[(i + 1) % 4]!)) found++; // the same branch, another method
  }
  t.equal(found, 0, 'no key that was not added is found');
  keys.add('z9hG4bK-x', 'BYE');
  keys.add('z9hG4bK-x', 'BYE');
  t.ok(keys.has('z9hG4bK-x', 'BYE'), 'a key added twice is there once');
});
