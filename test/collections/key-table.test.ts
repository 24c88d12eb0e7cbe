// The worker's churning registries: KeyTable answers as a Map would through
// any run of sets and deletes (long clusters shifted back on delete, growth,
// a colliding start), keeps no value of a deleted key, and SlotSet holds each
// object once, whatever the order they leave in.

import t from 'tap';
import { KeyTable, SlotSet } from '../../engine/collections/key-table.js';
import { Random } from '../../engine/random/index.js';

t.test('a KeyTable answers as a Map through 200,000 random sets and deletes', async (t) => {
  const table = new KeyTable<number>(8);
  const map = new Map<string, number>();
  const rng = new Random(17);
  // A few hundred live keys out of a thousand, as a worker's running calls: clusters form, shift back and grow.
  const key = () => `z9hG4bK${Math.floor(rng.nextOpen() * 1000)}`;
  let mismatches = 0;
  for (let n = 0; n < 200_000; n++) {
    const k = key();
    const r = rng.nextOpen();
    if (r < 0.45) {
      table.set(k, n);
      map.set(k, n);
    } else if (r < 0.9) {
      if (table.delete(k) !== map.delete(k)) mismatches++;
    } else if (table.get(k) !== map.get(k) || table.has(k) !== map.has(k)) mismatches++;
    if (table.size !== map.size) mismatches++;
  }
  t.equal(mismatches, 0, 'every get, has, delete and size as the Map');
  for (const [k, v] of map) if (table.get(k) !== v) mismatches++;
  t.equal(mismatches, 0, 'every key the Map holds, with its value');
  t.same(table.valueList().sort((a, b) => a - b), [...map.values()].sort((a, b) => a - b), 'the values, once each');
});

t.test('a deleted key is gone and its value no longer held', async (t) => {
  const table = new KeyTable<object>(8);
  const kept = { name: 'kept' };
  const gone = { name: 'gone' };
  table.set('a', kept);
  table.set('b', gone);
  t.equal(table.delete('b'), true);
  t.equal(table.delete('b'), false, 'a second delete finds nothing');
  t.equal(table.get('b'), undefined);
  t.notOk(table.valueList().includes(gone), 'nothing of it left in the table');
  t.equal(table.get('a'), kept);
  table.clear();
  t.same([table.size, table.get('a'), table.valueList()], [0, undefined, []], 'clear empties it');
});

t.test('a SlotSet holds each object once, whatever the order they leave in', async (t) => {
  const set = new SlotSet<{ slot: number; id: number }>();
  const items = Array.from({ length: 10 }, (_, id) => ({ slot: -1, id }));
  for (const it of items) set.add(it);
  set.add(items[3]!);
  t.equal(set.size, 10, 'adding a member again changes nothing');
  for (const id of [0, 9, 4, 5]) t.equal(set.delete(items[id]!), true);
  t.equal(set.delete(items[4]!), false, 'a member that left is not in it');
  t.equal(set.delete({ slot: 2, id: 99 }), false, 'nor is a stranger with a slot number of its own');
  t.same(set.list().map((i) => i.id).sort((a, b) => a - b), [1, 2, 3, 6, 7, 8]);
  t.ok(set.list().every((i, at) => i.slot === at), 'each member knows its place');
  t.equal(items[4]!.slot, -1);
});
