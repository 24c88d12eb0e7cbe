// Registries a load worker adds to and deletes from thousands of times a
// second (running instances, UAs by user, routes by Call-ID, transactions by
// branch), kept in arrays that live as long as the registry. A JS Map or Set
// there rehashes into a new table every few dozen changes, and V8 links each
// old table to the next (for iterators that outlive a rehash) without clearing
// its entries: once one table of that chain has reached the old generation,
// each later table, and every key and value any of them held, is kept through
// the young collections by the dead one before it and promoted in its turn,
// until a full collection. At 10,000 requests a second that was half of what
// the worker promoted (V8's --trace-gc-object-stats counted 14,000 dead map
// tables and the calls they held in the old space at each full collection).
// Here a deleted entry's slots are emptied at once, so nothing stays
// referenced from a table after it left it.

/** String keys to values: open addressing with linear probing; a delete shifts its cluster back (no tombstones). */
export class KeyTable<V> {
  private keys: (string | undefined)[];
  private values: (V | undefined)[];
  private hashes: Int32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 64) {
    const n = 2 ** Math.ceil(Math.log2(Math.max(8, capacity)));
    this.keys = new Array<string | undefined>(n).fill(undefined);
    this.values = new Array<V | undefined>(n).fill(undefined);
    this.hashes = new Int32Array(n);
    this.mask = n - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.values[i];
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  set(key: string, value: V): void {
    const h = hashOf(key);
    let i = h & this.mask;
    for (;;) {
      const k = this.keys[i];
      if (k === undefined) break;
      if (this.hashes[i] === h && k === key) {
        this.values[i] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.values[i] = value;
    this.hashes[i] = h;
    // At most half full: probes stay short. The table never shrinks; its arrays are the registry's high-water mark.
    if (++this.count * 2 > this.keys.length) this.grow();
  }

  delete(key: string): boolean {
    let i = this.find(key);
    if (i < 0) return false;
    this.count--;
    const mask = this.mask;
    // Backward shift: each later entry of the cluster that may sit in the hole (its home is not between the hole and
    // it) moves into it, and its own slot becomes the hole, until the cluster ends.
    for (let j = (i + 1) & mask; this.keys[j] !== undefined; j = (j + 1) & mask) {
      const home = this.hashes[j]! & mask;
      const stays = i < j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      this.keys[i] = this.keys[j];
      this.values[i] = this.values[j];
      this.hashes[i] = this.hashes[j]!;
      i = j;
    }
    this.keys[i] = undefined;
    this.values[i] = undefined;
    return true;
  }

  clear(): void {
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.count = 0;
  }

  /** The values, copied out (what holds them may delete while the caller goes through them). */
  valueList(): V[] {
    const out: V[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== undefined) out.push(this.values[i]!);
    return out;
  }

  /** The key's slot, or -1. An empty table answers without hashing: most runs never fill the peer-ready tables, which every call's end asks. */
  private find(key: string): number {
    if (this.count === 0) return -1;
    const h = hashOf(key);
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.keys[i];
      if (k === undefined) return -1;
      if (this.hashes[i] === h && k === key) return i;
    }
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    const hashes = this.hashes;
    const n = keys.length * 2;
    this.keys = new Array<string | undefined>(n).fill(undefined);
    this.values = new Array<V | undefined>(n).fill(undefined);
    this.hashes = new Int32Array(n);
    this.mask = n - 1;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j];
      if (k === undefined) continue;
      let i = hashes[j]! & this.mask;
      while (this.keys[i] !== undefined) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.values[i] = values[j];
      this.hashes[i] = hashes[j]!;
    }
    // The old arrays are garbage now; emptied so that, if already old, they keep nothing young alive meanwhile.
    keys.fill(undefined);
    values.fill(undefined);
  }
}

/** FNV-1a over the UTF-16 units: keys are a few dozen characters (a user, a Call-ID, a branch). */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** What a SlotSet holds: an object that keeps its own place in the set (-1 when out). */
export interface Slotted {
  slot: number;
}

/** An unordered set of objects that know their place in it: add and delete without hashing, and a delete leaves no reference behind. */
export class SlotSet<T extends Slotted> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (item.slot >= 0 && this.items[item.slot] === item) return;
    item.slot = this.items.length;
    this.items.push(item);
  }

  delete(item: T): boolean {
    const i = item.slot;
    if (i < 0 || this.items[i] !== item) return false;
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[i] = last;
      last.slot = i;
    }
    item.slot = -1;
    return true;
  }

  /** The items, copied out (what holds them may delete while the caller goes through them). */
  list(): T[] {
    return this.items.slice();
  }
}
