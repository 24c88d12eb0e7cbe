// What the transaction layer keeps of client transactions that are over but whose final response may still come
// again: Timer K of a completed non-INVITE (§17.1.2.2) and Timer M of an INVITE whose 2xx the UA has ACKed
// (RFC 6026 §8.4). A run at thousands of calls a second has tens of thousands of these at any time, so they are
// keys in a few buckets by age, not transactions with a timer each: nothing is scheduled or cancelled per key, and
// a bucket goes whole once its newest key has been kept its time.
//
// A key is 63 bits of hash of its branch and method, in a typed array: nothing on the JS heap per key. As strings
// they were nearly all a worker's young collections still copied and promoted at 10,000 requests/s (README Figures,
// "Timer K's keys"). Timer M's keys carry an ACK to send again: its bytes go into their bucket's own arena, so that
// they go with it instead of pinning the slabs they were written in.

import type { Endpoint } from '../transport/index.js';

/** A key is kept at least the lifetime and at most a quarter more. */
const BUCKETS_PER_LIFETIME = 4;
/** A first bucket's room in keys; a table doubles while it fills, and the next bucket starts at the size it reached. */
const MIN_SLOTS = 1024;
const MIN_ARENA_BYTES = 64 * 1024;

/**
 * An open-addressing table (linear probing) of `stride` Int32s a slot: the key's two hashes, then what the slot
 * carries. A slot whose first hash is 0 is free (a first hash is always odd).
 */
interface HashTable {
  table: Int32Array;
  stride: number;
  /** Slots minus one (a power of two minus one). */
  mask: number;
  count: number;
  /** When it became the newest bucket. */
  openedAt: number;
}

/** Buckets newest first; a new one opens every quarter lifetime, and the oldest goes once all its keys are due. */
abstract class AgedBuckets<B extends HashTable> {
  protected readonly buckets: B[];
  private readonly span: number;

  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs: number,
  ) {
    this.span = lifetimeMs / BUCKETS_PER_LIFETIME;
    this.buckets = [this.open(now(), undefined)];
  }

  /** `newest`: the bucket that was newest until now, whose sizes the new one starts at. */
  protected abstract open(openedAt: number, newest: B | undefined): B;

  protected age(): void {
    const now = this.now();
    const buckets = this.buckets;
    if (now - buckets[0]!.openedAt < this.span) return;
    buckets.unshift(this.open(now, buckets[0]));
    // A bucket took its keys within `span` of its opening (a later add would have opened a new one).
    while (now - buckets[buckets.length - 1]!.openedAt - this.span >= this.lifetimeMs) buckets.pop();
  }

  /** The slot of the key last hashed in the newest bucket, or -1 when it is there already. */
  protected claim(): number {
    const b = this.buckets[0]!;
    if (2 * (b.count + 1) > b.mask + 1) this.grow(b);
    const i = insert(b, hashA, hashB);
    if (i >= 0) b.count++;
    return i;
  }

  /** Doubles the bucket's table. */
  protected grow(b: B): void {
    growTable(b);
  }

  /** The bucket holding the key last hashed, and its slot there. */
  protected lookUp(): { bucket: B; slot: number } | undefined {
    for (const bucket of this.buckets) {
      const slot = find(bucket, hashA, hashB);
      if (slot >= 0) return { bucket, slot };
    }
    return undefined;
  }
}

/**
 * Timer K: keys of branch and method. Two different keys are taken for one with a chance of about n / 2^63 per lookup
 * (n kept, tens of thousands): a stray response counted as a retransmission, never a message lost or misrouted.
 */
export class LingeringKeys extends AgedBuckets<HashTable> {
  add(branch: string, method: string): void {
    this.age();
    hash(branch, method);
    this.claim();
  }

  has(branch: string, method: string): boolean {
    this.age();
    hash(branch, method);
    return this.lookUp() !== undefined;
  }

  protected open(openedAt: number, newest: HashTable | undefined): HashTable {
    return newTable(2, newest ? newest.mask + 1 : MIN_SLOTS, openedAt);
  }
}

interface AckBucket extends HashTable {
  /** By slot: where the ACK went. Slots also hold the ACK's offset and length in `arena`. */
  dests: (Endpoint | undefined)[];
  /** Grows by copying into one twice the size: offsets stay valid. */
  arena: Buffer;
  arenaUsed: number;
}

/** Timer M: ACKs by the branch of their INVITE (the same hashing as LingeringKeys, with the method INVITE). */
export class LingeringAcks extends AgedBuckets<AckBucket> {
  add(branch: string, ack: Buffer, dest: Endpoint): void {
    this.age();
    hash(branch, 'INVITE');
    const slot = this.claim();
    if (slot < 0) return;
    const b = this.buckets[0]!;
    const n = ack.length;
    if (b.arenaUsed + n > b.arena.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * b.arena.length, b.arenaUsed + n));
      b.arena.copy(bigger, 0, 0, b.arenaUsed);
      b.arena = bigger;
    }
    ack.copy(b.arena, b.arenaUsed);
    b.table[4 * slot + 2] = b.arenaUsed;
    b.table[4 * slot + 3] = n;
    b.dests[slot] = dest;
    b.arenaUsed += n;
  }

  get(branch: string): { ack: Buffer; dest: Endpoint } | undefined {
    this.age();
    hash(branch, 'INVITE');
    const found = this.lookUp();
    if (!found) return undefined;
    const { bucket: b, slot } = found;
    const at = b.table[4 * slot + 2]!;
    return { ack: b.arena.subarray(at, at + b.table[4 * slot + 3]!), dest: b.dests[slot]! };
  }

  protected open(openedAt: number, newest: AckBucket | undefined): AckBucket {
    const slots = newest ? newest.mask + 1 : MIN_SLOTS;
    return {
      ...newTable(4, slots, openedAt),
      dests: new Array<Endpoint | undefined>(slots).fill(undefined),
      arena: Buffer.allocUnsafeSlow(newest ? newest.arena.length : MIN_ARENA_BYTES),
      arenaUsed: 0,
    };
  }

  protected override grow(b: AckBucket): void {
    const dests = new Array<Endpoint | undefined>(2 * (b.mask + 1)).fill(undefined);
    const old = b.dests;
    growTable(b, (from, to) => (dests[to] = old[from]));
    b.dests = dests;
  }
}

function newTable(stride: number, slots: number, openedAt: number): HashTable {
  return { table: new Int32Array(stride * slots), stride, mask: slots - 1, count: 0, openedAt };
}

/** The two hashes of the last key hashed (module state: a result without an object per call). */
let hashA = 0;
let hashB = 0;

/** FNV-1a and a multiply-xorshift over the key's UTF-16 units, `|` between branch and method, each mixed at the end. */
function hash(branch: string, method: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < branch.length; i++) {
    const c = branch.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = Math.imul(a ^ 0x7c, 0x01000193);
  b = Math.imul(b ^ 0x7c, 0x5bd1e995);
  for (let i = 0; i < method.length; i++) {
    const c = method.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  hashA = mix(a) | 1;
  hashB = mix(b);
}

/** MurmurHash3's finalizer: every input bit moves every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The slot the pair now has, or -1 when it was there already. */
function insert(b: HashTable, a: number, h: number): number {
  const t = b.table;
  const s = b.stride;
  let i = (h >>> 0) & b.mask;
  while (t[s * i] !== 0) {
    if (t[s * i] === a && t[s * i + 1] === h) return -1;
    i = (i + 1) & b.mask;
  }
  t[s * i] = a;
  t[s * i + 1] = h;
  return i;
}

function find(b: HashTable, a: number, h: number): number {
  const t = b.table;
  const s = b.stride;
  for (let i = (h >>> 0) & b.mask; t[s * i] !== 0; i = (i + 1) & b.mask) {
    if (t[s * i] === a && t[s * i + 1] === h) return i;
  }
  return -1;
}

/** Twice the slots, every pair inserted again with what its slot carries; `moved` hears where each went. */
function growTable(b: HashTable, moved?: (from: number, to: number) => void): void {
  const old = b.table;
  const s = b.stride;
  const slots = 2 * (b.mask + 1);
  b.table = new Int32Array(s * slots);
  b.mask = slots - 1;
  for (let i = 0; i < old.length; i += s) {
    if (old[i] === 0) continue;
    const j = insert(b, old[i]!, old[i + 1]!);
    for (let k = 2; k < s; k++) b.table[s * j + k] = old[i + k]!;
    moved?.(i / s, j);
  }
}
