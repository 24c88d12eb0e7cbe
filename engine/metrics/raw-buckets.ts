// Reading raw histograms (RawHistogram, the non-zero buckets a snapshot
// carries) without building a full one: the difference of two cumulative
// snapshots (what happened between them), percentiles, counts at or below
// fixed bounds (a Prometheus histogram's `le` buckets) and their sum. Every
// histogram has newHistogram's layout, so bucket index to value is one table
// per thread, built at first use; reading a histogram is then one pass over
// its non-zero buckets (hdr-histogram-js walks all 18,432 and costs 12 ms for
// p50..p99.9: measured in bench/live.ts). A bucket stands for its lowest value
// when compared with a bound, so a bound is met to the histogram's 3
// significant digits (values below 2048 µs exactly).

import { newHistogram, type RawHistogram } from './histogram.js';

interface Layout {
  low: Float64Array;
  mid: Float64Array;
  high: Float64Array;
}

let tables: Layout | undefined;

/** Lowest, middle and highest value (µs) of each bucket index: immutable once built. */
function layout(): Layout {
  if (tables) return tables;
  const h = newHistogram() as unknown as {
    countsArrayLength: number; valueFromIndex(i: number): number; lowestEquivalentValue(v: number): number;
    medianEquivalentValue(v: number): number; highestEquivalentValue(v: number): number;
  };
  const n = h.countsArrayLength;
  const t = { low: new Float64Array(n), mid: new Float64Array(n), high: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const v = h.valueFromIndex(i);
    t.low[i] = h.lowestEquivalentValue(v);
    t.mid[i] = h.medianEquivalentValue(v);
    t.high[i] = h.highestEquivalentValue(v);
  }
  return (tables = t);
}

/**
 * Builds the tables now rather than at the first reading: a load worker does it before the run starts, where its
 * 18,432 steps (15 ms before V8 optimizes them) delay nothing; at the first second's snapshot they delayed arrivals.
 */
export function buildBucketTables(): void {
  layout();
}

/** The lowest value (µs) bucket `index` holds. */
export function bucketValueUs(index: number): number {
  return layout().low[index]!;
}

/** later - earlier, bucket by bucket, for two cumulative snapshots of one histogram (later holds all of earlier). */
export function subtractRaw(later: RawHistogram, earlier: RawHistogram): RawHistogram {
  if (earlier.index.length === 0) return later;
  const index = new Uint32Array(later.index.length);
  const count = new Float64Array(later.index.length);
  let k = 0;
  for (let i = 0, j = 0; i < later.index.length; i++) {
    const at = later.index[i]!;
    while (j < earlier.index.length && earlier.index[j]! < at) j++;
    const c = later.count[i]! - (j < earlier.index.length && earlier.index[j] === at ? earlier.count[j]! : 0);
    if (c > 0) {
      index[k] = at;
      count[k++] = c;
    }
  }
  return { index: index.slice(0, k), count: count.slice(0, k) };
}

/** How many values the histogram holds. */
export function totalOf(raw: RawHistogram): number {
  let n = 0;
  for (let i = 0; i < raw.count.length; i++) n += raw.count[i]!;
  return n;
}

/**
 * Values at the percentiles `ps` (ascending, 0..100), in ms, as hdr-histogram-js's getValueAtPercentile reads them
 * (the highest value of the bucket where the count reaches the percentile) and rounded as percentiles() rounds.
 * Zeros for an empty histogram.
 */
export function rawPercentilesMs(raw: RawHistogram, ps: readonly number[]): number[] {
  const out = ps.map(() => 0);
  const total = totalOf(raw);
  if (total === 0) return out;
  const { low, high } = layout();
  let seen = 0;
  let p = 0;
  for (let i = 0; i < raw.index.length && p < ps.length; i++) {
    seen += raw.count[i]!;
    while (p < ps.length && seen >= countAtPercentile(ps[p]!, total)) {
      const us = ps[p] === 0 ? low[raw.index[i]!]! : high[raw.index[i]!]!;
      out[p++] = Math.round(us) / 1000;
    }
  }
  return out;
}

/**
 * The count the percentile reaches, as hdr-histogram-js rounds it: up, less one unit in the last place, so
 * that 90% of 7 values is the 7th (6.3 rounded up) and floating-point noise above a whole count is not.
 */
function countAtPercentile(percentile: number, total: number): number {
  const exact = (Math.min(percentile, 100) / 100) * total;
  return exact > 0 ? Math.max(1, Math.ceil(exact - 2 ** (Math.floor(Math.log2(exact)) - 52))) : 1;
}

/** How many values are at or below each of `boundsUs` (ascending), and all of them: a histogram's cumulative buckets. */
export function countsAtOrBelow(raw: RawHistogram, boundsUs: readonly number[]): { below: number[]; total: number } {
  const { low } = layout();
  const below = new Array<number>(boundsUs.length).fill(0);
  let total = 0;
  let b = 0;
  for (let i = 0; i < raw.index.length; i++) {
    // Buckets come in ascending value: what was counted before the first one above a bound is all at or below it.
    const v = low[raw.index[i]!]!;
    while (b < boundsUs.length && v > boundsUs[b]!) below[b++] = total;
    total += raw.count[i]!;
  }
  while (b < boundsUs.length) below[b++] = total;
  return { below, total };
}

/** The sum of the values (µs), each bucket's count times its middle value. */
export function sumUs(raw: RawHistogram): number {
  const { mid } = layout();
  let sum = 0;
  for (let i = 0; i < raw.index.length; i++) sum += raw.count[i]! * mid[raw.index[i]!]!;
  return sum;
}
