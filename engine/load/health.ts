// The generator watching itself: event-loop lag and how far from their intended
// time arrivals started ("99% of sends within 1 ms", either side: the runner
// starts an arrival up to half a millisecond early rather than a millisecond
// late). Lateness goes into an HDR histogram, so a run of any length keeps a
// fixed few kilobytes for it. It is read every second between two arrivals, so
// it is read as raw buckets (one pass over the non-zero ones), not through
// hdr-histogram-js, whose percentile and mean walk every bucket: 8-15 ms in the
// first seconds, before V8 optimizes them, and over a millisecond after, which
// made the arrivals due meanwhile late.

import type { IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { newHistogram, rawOf, recordMs, type RunSnapshot } from '../metrics/index.js';
import { rawPercentilesMs } from '../metrics/raw-buckets.js';

export class Lateness {
  private readonly hist = newHistogram();
  private onTime = 0;

  /** `ms`: actual start minus intended start; negative when early. */
  record(ms: number): void {
    recordMs(this.hist, Math.max(0, ms));
    if (Math.abs(ms) <= 1) this.onTime++;
  }

  get count(): number {
    return this.hist.totalCount;
  }

  get onTimeShare(): number {
    return this.count ? this.onTime / this.count : 1;
  }

  /** p99 and max in ms, from one pass over the histogram. */
  late(): { p99: number; max: number } {
    if (!this.count) return { p99: 0, max: 0 };
    const [p99] = rawPercentilesMs(rawOf(this.hist), [99]);
    return { p99: p99!, max: Math.round(this.hist.maxValue) / 1000 };
  }
}

/**
 * `lag` samples the whole interval of a timer of `resolutionMs` (an idle loop reads 10 ms at a resolution of 10),
 * so the lag is what exceeds the resolution.
 */
export function healthOf(lag: IntervalHistogram, resolutionMs: number, lateness: Lateness | undefined): RunSnapshot['health'] {
  const late = lateness?.late() ?? { p99: 0, max: 0 };
  const over = (ns: number) => Math.max(0, Math.round(ns / 1e3 - resolutionMs * 1e3) / 1e3);
  return {
    lagP99Ms: lag.count ? over(lag.percentile(99)) : 0,
    lagMaxMs: lag.count ? over(lag.max) : 0,
    cpuMs: 0,
    sendLateP99Ms: late.p99,
    sendLateMaxMs: late.max,
    sendsOnTimeShare: lateness?.onTimeShare ?? 1,
    heapUsedMb: liveHeapMb(),
  };
}

/**
 * This worker's V8 heap in use, MB. Under `node --expose-gc` it collects first, so that the figure is
 * the live heap: what a leak test compares over time (RSS in the first minute mostly shows V8 sizing its heap).
 */
function liveHeapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(getHeapStatistics().used_heap_size / 104857.6) / 10;
}
