// Latency histograms: HdrHistogram (hdr-histogram-js, pure JS so it works in
// worker_threads without async WebAssembly setup), microsecond resolution, up
// to 120 s, 3 significant digits. They cross threads and machines in the
// compressed base64 form and are added, never averaged.

import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';

const require = createRequire(import.meta.url);
const hdr = require('hdr-histogram-js') as typeof import('hdr-histogram-js');

export const HIGHEST_US = 120_000_000;

export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(s, 32, false);
  // Decoded histograms are sized to their contents; copy into a full-range one so adds never overflow.
  const h = newHistogram();
  h.add(decoded);
  return h;
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
