// The generator watching itself: event-loop lag and how late arrivals started
// against their intended time ("99% of sends within 1 ms"). Lateness goes into
// an HDR histogram, so a run of any length keeps a fixed few kilobytes for it.

import type { IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { newHistogram, percentiles, recordMs, type RunSnapshot } from '../metrics/index.js';

export class Lateness {
  private readonly hist = newHistogram();
  private onTime = 0;

  record(ms: number): void {
    recordMs(this.hist, ms);
    if (ms <= 1) this.onTime++;
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
    const { p99, max } = percentiles(this.hist);
    return { p99, max };
  }
}

export function healthOf(lag: IntervalHistogram, lateness: Lateness | undefined): RunSnapshot['health'] {
  const late = lateness?.late() ?? { p99: 0, max: 0 };
  return {
    lagP99Ms: lag.count ? lag.percentile(99) / 1e6 : 0,
    lagMaxMs: lag.count ? lag.max / 1e6 : 0,
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
