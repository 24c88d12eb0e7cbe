// The worker's ladder store: a fixed budget of bytes for the messages of all
// its instances; the oldest make room, an instance's ladder comes back in
// order, and what was let go is simply not there.

import t from 'tap';
import { LadderStore } from '../../engine/ua/ladder-store.js';

const msg = (s: string) => Buffer.from(s.padEnd(100, '.'));

t.test("an instance's messages come back in order, as copies", async (t) => {
  const store = new LadderStore(4096);
  const sent = msg('REGISTER 1');
  store.add(1, 0, 'sent', sent);
  store.add(2, 0, 'sent', msg('OPTIONS 2'));
  store.add(1, 5, 'received', msg('401 1'));
  store.add(1, 9, 'sent', msg('REGISTER 1 again'));
  const got = store.messagesOf(1);
  t.same(got.map((m) => [m.t, m.dir, m.data.toString().replace(/\.+$/, '')]), [[0, 'sent', 'REGISTER 1'], [5, 'received', '401 1'], [9, 'sent', 'REGISTER 1 again']]);
  sent.fill(0);
  t.equal(store.messagesOf(1)[0]!.data.toString().slice(0, 10), 'REGISTER 1', 'the store copied the bytes: the sender may reuse its buffer');
  t.same(store.messagesOf(3), [], 'an instance that recorded nothing');
});

t.test('past the budget the oldest messages make room, across the wrap', async (t) => {
  const store = new LadderStore(1000); // room for 10 messages of 100 bytes
  for (let i = 0; i < 25; i++) store.add(i, i, 'sent', msg(`m${i}`));
  const kept = Array.from({ length: 25 }, (_, i) => store.messagesOf(i).length);
  t.same(kept, [...Array(15).fill(0), ...Array(10).fill(1)], 'the last 10 are kept, the first 15 let go');
  t.equal(store.messagesOf(24)[0]!.data.toString().replace(/\.+$/, ''), 'm24');
  // Messages of uneven sizes: whatever is kept is intact.
  for (let i = 0; i < 200; i++) store.add(1000 + i, i, 'received', Buffer.from(`x${i}`.repeat(1 + (i % 37))));
  for (let i = 0; i < 200; i++) {
    for (const m of store.messagesOf(1000 + i)) t.equal(m.data.toString(), `x${i}`.repeat(1 + (i % 37)));
  }
  t.ok(store.messagesOf(1199).length === 1, 'the newest is always there');
});

t.test('a message larger than the whole budget is cut to it', async (t) => {
  const store = new LadderStore(64);
  store.add(1, 0, 'received', Buffer.alloc(100, 0x41));
  t.equal(store.messagesOf(1)[0]!.data.length, 64);
});
