// The transaction layer's store of keys for transactions that are over (engine/transaction/linger.ts): a key is
// kept at least its lifetime and at most a quarter more, however often or seldom the store is used, and the bytes
// kept with a key are a copy of their own.

import t from 'tap';
import { Lingering } from '../../engine/transaction/linger.js';

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
