// Latency histograms: HdrHistogram (hdr-histogram-js, pure JS so it works in
// worker_threads without async WebAssembly setup), microsecond resolution, up
// to 120 s, 3 significant digits. They are added, never averaged. Between
// threads (a worker's snapshot every second) they travel as raw counts
// (RawHistogram: the non-zero buckets, no compression), added bucket by bucket;
// the compressed base64 form is made only for results (result.json) and read
// back by merge/report.

import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';

const require = createRequire(import.meta.url);
// The histogram class alone, not the package's index: that loads the compressed base64 codec (pako, and a
// WebAssembly build in base64) that only results need, which a worker never makes; it is loaded at the first use.
type HistogramClass = new (lowest: number, highest: number, digits: number) => Histogram;
const Int32Histogram = (require('hdr-histogram-js/dist/Int32Histogram') as { default: HistogramClass }).default;
type Codec = Pick<typeof import('hdr-histogram-js'), 'encodeIntoCompressedBase64' | 'decodeFromCompressedBase64'>;
let codec: Codec | undefined;
const hdrCodec = (): Codec => (codec ??= require('hdr-histogram-js/dist/encoding') as Codec);

export const HIGHEST_US = 120_000_000;

export function newHistogram(): Histogram {
  // What hdr-histogram-js's build() makes for these settings (32-bit counts, no WebAssembly), autoResize as it sets it.
  const h = new Int32Histogram(1, HIGHEST_US, 3);
  h.autoResize = true;
  return h;
}

export function encodeHistogram(h: Histogram): string {
  return hdrCodec().encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  const decoded = hdrCodec().decodeFromCompressedBase64(s, 32, false);
  // Decoded histograms are sized to their contents; copy into a full-range one so adds never overflow.
  const h = newHistogram();
  h.add(decoded);
  return h;
}

/**
 * A histogram's non-zero buckets: bucket indexes ascending and their counts. Every histogram here
 * has the layout of newHistogram, so an index means the same bucket on every thread, and adding two
 * is adding counts at equal indexes: exact, as Histogram.add is. Typed arrays of exactly their
 * length, so that a structured clone (postMessage) copies only them.
 */
export interface RawHistogram {
  index: Uint32Array;
  count: Float64Array;
}

/** What hdr-histogram-js keeps inside a JS histogram and does not type (TypedArrayHistogram, JsHistogram). */
interface HistogramInternals {
  /** The bucket counts of a typed-array histogram (what newHistogram builds). */
  _counts?: Uint32Array;
  countsArrayLength: number;
  maxValue: number;
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  setCountAtIndex(index: number, count: number): void;
  establishInternalTackingValues(lengthToCover?: number): void;
}

const internals = (h: Histogram) => h as unknown as HistogramInternals;

export function emptyRaw(): RawHistogram {
  return { index: new Uint32Array(0), count: new Float64Array(0) };
}

/** Where rawOf gathers the non-zero buckets in its one pass over the counts, before copying them out at their length. */
let gatheredIndex = new Uint32Array(0);
let gatheredCount = new Float64Array(0);

/** The histogram's non-zero buckets (the values it holds, without compression). */
export function rawOf(h: Histogram): RawHistogram {
  const x = internals(h);
  if (h.totalCount === 0) return emptyRaw();
  // No bucket above the one of the largest value recorded holds anything.
  const end = Math.min(x.countsArrayLength, x.countsArrayIndex(x.maxValue) + 1);
  const counts = x._counts ?? Float64Array.from({ length: end }, (_, i) => x.getCountAtIndex(i));
  if (gatheredIndex.length < end) {
    gatheredIndex = new Uint32Array(x.countsArrayLength);
    gatheredCount = new Float64Array(x.countsArrayLength);
  }
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = counts[i]!;
    if (c > 0) {
      gatheredIndex[n] = i;
      gatheredCount[n++] = c;
    }
  }
  return { index: gatheredIndex.slice(0, n), count: gatheredCount.slice(0, n) };
}

/** A full-range histogram holding the raw counts; its max and min are those a decoded one has. */
export function histogramOf(r: RawHistogram): Histogram {
  const h = newHistogram();
  const x = internals(h);
  const n = r.index.length;
  if (n === 0) return h;
  for (let j = 0; j < n; j++) x.setCountAtIndex(r.index[j]!, r.count[j]!);
  x.establishInternalTackingValues(r.index[n - 1]! + 1);
  return h;
}

/** The sum of two raw histograms, bucket by bucket (a merge of sorted index lists). */
export function addRaw(a: RawHistogram, b: RawHistogram): RawHistogram {
  const na = a.index.length;
  const nb = b.index.length;
  if (nb === 0) return a;
  if (na === 0) return b;
  // Buckets in both, counted first so that the arrays are made at their exact length.
  let both = 0;
  for (let i = 0, j = 0; i < na && j < nb; ) {
    const ia = a.index[i]!;
    const ib = b.index[j]!;
    if (ia === ib) both++;
    if (ia <= ib) i++;
    if (ib <= ia) j++;
  }
  const n = na + nb - both;
  const index = new Uint32Array(n);
  const count = new Float64Array(n);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < na && j < nb) {
    const ia = a.index[i]!;
    const ib = b.index[j]!;
    if (ia < ib) {
      index[k] = ia;
      count[k++] = a.count[i++]!;
    } else if (ib < ia) {
      index[k] = ib;
      count[k++] = b.count[j++]!;
    } else {
      index[k] = ia;
      count[k++] = a.count[i++]! + b.count[j++]!;
    }
  }
  if (i < na) {
    index.set(a.index.subarray(i), k);
    count.set(a.count.subarray(i), k);
  } else if (j < nb) {
    index.set(b.index.subarray(j), k);
    count.set(b.count.subarray(j), k);
  }
  return { index, count };
}

/** The compressed base64 form of a raw histogram, as results carry it. */
export function encodeRaw(r: RawHistogram): string {
  return encodeHistogram(histogramOf(r));
}

/** Records a latency given in milliseconds (fractional), clamped to the histogram's range. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, us)));
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Percentiles in milliseconds. */
export function percentiles(h: Histogram): Percentiles {
  const ms = (us: number) => Math.round(us) / 1000;
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  };
}

export type { Histogram };
