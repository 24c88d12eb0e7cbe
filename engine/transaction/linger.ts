// What the transaction layer keeps of client transactions that are over but whose final response may still come
// again: Timer K of a completed non-INVITE (§17.1.2.2) and Timer M of an INVITE whose 2xx the UA has ACKed
// (RFC 6026 §8.4). A run at thousands of calls a second has tens of thousands of these at any time, so they are
// keys in a few buckets by age, not transactions with a timer each: nothing is scheduled or cancelled per key, and
// a bucket goes whole once its newest key has been kept its time. The bytes a key keeps (an ACK to send again)
// are copied into its bucket's own arena, so that they go with it instead of pinning the slabs they were written in.

/** A key is kept at least the lifetime and at most a quarter more. */
const BUCKETS_PER_LIFETIME = 4;
const ARENA_BYTES = 64 * 1024;

interface Bucket<V> {
  keys: Map<string, V>;
  /** When it became the newest bucket. */
  openedAt: number;
  arena: Buffer | undefined;
  arenaUsed: number;
}

export class Lingering<V> {
  /** Newest first. */
  private readonly buckets: Bucket<V>[];
  private readonly span: number;

  constructor(
    private readonly now: () => number,
    private readonly lifetimeMs: number,
  ) {
    this.span = lifetimeMs / BUCKETS_PER_LIFETIME;
    this.buckets = [this.bucket(now())];
  }

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

  private age(): void {
    const now = this.now();
    const buckets = this.buckets;
    if (now - buckets[0]!.openedAt < this.span) return;
    buckets.unshift(this.bucket(now));
    // A bucket took its keys within `span` of its opening (a later add would have opened a new one).
    while (now - buckets[buckets.length - 1]!.openedAt - this.span >= this.lifetimeMs) buckets.pop();
  }

  private bucket(openedAt: number): Bucket<V> {
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
