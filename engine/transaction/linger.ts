// What the transaction layer keeps of client transactions that are over but whose final response may still come
// again: Timer K of a completed non-INVITE (§17.1.2.2) and Timer M of an INVITE whose 2xx the UA has ACKed
// (RFC 6026 §8.4). A run at thousands of calls a second has tens of thousands of these at any time, so they are
// keys in a few buckets by age, not transactions with a timer each: nothing is scheduled or cancelled per key, and
// a bucket goes whole once its newest key has been kept its time.
//
// Timer K's keys (LingeringKeys) are 63 bits of hash in typed arrays, nothing on the JS heap: as strings they were
// nearly all a worker's young collections still copied and promoted at 10,000 requests/s (README Figures,
// "Timer K's keys"). Timer M's (Lingering) carry an ACK to send again, whose bytes are copied into their bucket's
// own arena, so that they go with it instead of pinning the slabs they were written in.

/** A key is kept at least the lifetime and at most a quarter more. */
const BUCKETS_PER_LIFETIME = 4;
const ARENA_BYTES = 64 * 1024;

/** Buckets newest first; a new one opens every quarter lifetime, and the oldest goes once all its keys are due. */
abstract class AgedBuckets<B extends { openedAt: number }> {
  protected readonly buckets: B[];
  private readonly span: number;

  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs: number,
  ) {
    this.span = lifetimeMs / BUCKETS_PER_LIFETIME;
    this.buckets = [this.open(now())];
  }

  protected abstract open(openedAt: number): B;

  protected age(): void {
    const now = this.now();
    const buckets = this.buckets;
    if (now - buckets[0]!.openedAt < this.span) return;
    buckets.unshift(this.open(now));
    // A bucket took its keys within `span` of its opening (a later add would have opened a new one).
    while (now - buckets[buckets.length - 1]!.openedAt - this.span >= this.lifetimeMs) buckets.pop();
  }
}

interface Bucket<V> {
  keys: Map<string, V>;
  /** When it became the newest bucket. */
  openedAt: number;
  arena: Buffer | undefined;
  arenaUsed: number;
}

export class Lingering<V> extends AgedBuckets<Bucket<V>> {
  /** `key`: made for this call (`${branch}|${method}`), not a string kept elsewhere. */
  add(key: string, value: V): void {
    this.age();
    this.buckets[0]!.keys.set(flat(key), value);
  }

  get(key: string): V | undefined {
    this.age();
    for (const b of this.buckets) {
      const v = b.keys.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** A copy of `bytes` that lives as long as the keys added from now until the next bucket opens. */
  keep(bytes: Buffer): Buffer {
    this.age();
    const b = this.buckets[0]!;
    const n = bytes.length;
    if (n > ARENA_BYTES / 4) return Buffer.from(bytes);
    if (!b.arena || b.arenaUsed + n > b.arena.length) {
      b.arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
      b.arenaUsed = 0;
    }
    b.arena.set(bytes, b.arenaUsed);
    const out = b.arena.subarray(b.arenaUsed, b.arenaUsed + n);
    b.arenaUsed += n;
    return out;
  }

  protected open(openedAt: number): Bucket<V> {
    return { keys: new Map(), openedAt, arena: undefined, arenaUsed: 0 };
  }
}

/**
 * The key as a string of its own. `branch|method` is a chain of pieces, and a branch read off a message a slice of its
 * Via: kept for seconds as they are, each key would keep its Via alive with it (about 200 bytes a key instead of 80).
 * A string made from bytes is one flat piece; a key is ASCII (a branch is a token), so latin1 loses nothing.
 */
function flat(key: string): string {
  return Buffer.from(key, 'latin1').toString('latin1');
}

interface KeyBucket {
  /** Pairs of hashes; a pair whose first is 0 is free (a first hash is always odd). Open addressing, linear probing. */
  table: Int32Array;
  /** Pairs the table has room for, minus one (a power of two minus one). */
  mask: number;
  count: number;
  openedAt: number;
}

/** A new bucket's room in pairs; it doubles while it fills, and the next bucket starts at the size it reached. */
const MIN_PAIRS = 1024;

/**
 * Keys of branch and method, remembered as two 32-bit hashes (63 bits: the first is made odd). Two different keys
 * are taken for one with a chance of about n / 2^63 per lookup (n kept, tens of thousands): a stray response
 * counted as a retransmission, never a message lost or misrouted.
 */
export class LingeringKeys extends AgedBuckets<KeyBucket> {
  add(branch: string, method: string): void {
    this.age();
    hash(branch, method);
    let b = this.buckets[0]!;
    if (2 * (b.count + 1) > b.mask + 1) b = this.buckets[0] = grown(b);
    if (insert(b, hashA, hashB)) b.count++;
  }

  has(branch: string, method: string): boolean {
    this.age();
    hash(branch, method);
    for (const b of this.buckets) if (find(b, hashA, hashB)) return true;
    return false;
  }

  protected open(openedAt: number): KeyBucket {
    // `buckets` is not there yet while the constructor opens the first one.
    const pairs = this.buckets ? this.buckets[0]!.mask + 1 : MIN_PAIRS;
    return { table: new Int32Array(2 * pairs), mask: pairs - 1, count: 0, openedAt };
  }
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

/** True when the pair was not there yet. */
function insert(b: KeyBucket, a: number, h: number): boolean {
  const t = b.table;
  let i = (h >>> 0) & b.mask;
  while (t[2 * i] !== 0) {
    if (t[2 * i] === a && t[2 * i + 1] === h) return false;
    i = (i + 1) & b.mask;
  }
  t[2 * i] = a;
  t[2 * i + 1] = h;
  return true;
}

function find(b: KeyBucket, a: number, h: number): boolean {
  const t = b.table;
  for (let i = (h >>> 0) & b.mask; t[2 * i] !== 0; i = (i + 1) & b.mask) {
    if (t[2 * i] === a && t[2 * i + 1] === h) return true;
  }
  return false;
}

function grown(b: KeyBucket): KeyBucket {
  const pairs = 2 * (b.mask + 1);
  const next: KeyBucket = { table: new Int32Array(2 * pairs), mask: pairs - 1, count: b.count, openedAt: b.openedAt };
  const t = b.table;
  for (let i = 0; i < t.length; i += 2) if (t[i] !== 0) insert(next, t[i]!, t[i + 1]!);
  return next;
}
