// The seeded pseudo-random generator of the traffic models (Poisson arrivals,
// pauses drawn from distributions): xoshiro128** (Blackman and Vigna), four
// 32-bit words of state filled from the seed by splitmix32, so that a run given
// the same --seed draws the same numbers. Streams are derived from the run's
// seed and a key (what they are for, which role, which arrival), not shared, so
// that what one instance draws never depends on what another drew before it.

/** Largest seed accepted (--seed): 32 bits, so that it is printed and typed back unchanged. */
export const MAX_SEED = 0xffff_ffff;

/** What a stream is for (the first key of streamSeed): arrivals of a role, or the draws of one instance. */
export const STREAM_ARRIVALS = 1;
export const STREAM_INSTANCE = 2;

/** One step of splitmix32: a well-mixed 32-bit word from a counter. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A 32-bit seed for the stream named by `keys` (small non-negative integers) under the run's seed. */
export function streamSeed(seed: number, ...keys: number[]): number {
  let h = splitmix32(seed >>> 0);
  for (const k of keys) {
    // Two words of a key up to 2^53, each mixed in: arrival numbers may pass 2^32.
    h = splitmix32(h ^ (k >>> 0));
    h = splitmix32(h ^ Math.floor(k / 0x1_0000_0000));
  }
  return h;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    this.a = splitmix32(x);
    this.b = splitmix32((x = (x + 0x9e3779b9) | 0));
    this.c = splitmix32((x = (x + 0x9e3779b9) | 0));
    this.d = splitmix32((x + 0x9e3779b9) | 0);
    // xoshiro's state must not be all zero.
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** The next 32-bit word. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1), with 53 random bits. */
  next(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67_108_864 + lo) / 9_007_199_254_740_992;
  }

  /** Uniform in (0, 1]: safe under a logarithm. */
  nextOpen(): number {
    return 1 - this.next();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
