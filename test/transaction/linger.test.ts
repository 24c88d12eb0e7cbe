// The transaction layer's stores of keys for transactions that are over (engine/transaction/linger.ts): a key is
// kept at least its lifetime and at most a quarter more, however often or seldom the store is used; the bytes
// kept with a key are a copy of their own; Timer K's hashed keys find every key added and none that was not.

import t from 'tap';
import { Lingering, LingeringKeys } from '../../engine/transaction/linger.js';

t.test('a key is kept its lifetime, and gone within a quarter more', async (t) => {
  for (const every of [1, 50, 400]) {
    let now = 0;
    const store = new Lingering<number>(() => now, 1000);
    store.add(`z9hG4bK1|${'OPTIONS'}`, 7);
    let lastSeen = 0;
    for (now = every; now <= 3000; now += every) if (store.get('z9hG4bK1|OPTIONS') === 7) lastSeen = now;
    t.ok(lastSeen >= 1000 - every + 1 && lastSeen <= 1250, `looked up every ${every} ms: last seen at ${lastSeen} ms`);
  }
  const seldom = (at: number) => {
    let now = 0;
    const store = new Lingering<number>(() => now, 1000);
    store.add('z9hG4bK2|BYE', 1);
    now = at;
    return store.get('z9hG4bK2|BYE');
  };
  t.equal(seldom(1000), 1, 'a store not used since keeps the key its lifetime');
  t.equal(seldom(1251), undefined, 'and lets it go after a quarter more');
});

t.test('the bytes kept with a key are a copy: the original may be written over', async (t) => {
  const store = new Lingering<Buffer>(() => 0, 1000);
  const ack = Buffer.from('ACK sip:bob@example.com SIP/2.0\r\n\r\n');
  store.add('b|INVITE', store.keep(ack));
  ack.fill(0x20);
  t.equal(store.get('b|INVITE')!.toString(), 'ACK sip:bob@example.com SIP/2.0\r\n\r\n');
  t.equal(store.get('b|BYE'), undefined, 'another key is another transaction');
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
