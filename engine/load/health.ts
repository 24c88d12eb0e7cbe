// The generator watching itself: event-loop lag and how late arrivals started
// against their intended time ("99% of sends within 1 ms").

import type { IntervalHistogram } from 'node:perf_hooks';
import type { RunSnapshot } from '../metrics/index.js';

export function healthOf(lag: IntervalHistogram, lateness: number[]): RunSnapshot['health'] {
  const sorted = lateness.length > 0 ? Float64Array.from(lateness).sort() : new Float64Array(0);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : 0);
  let onTime = 0;
  for (const v of sorted) if (v <= 1) onTime++;
  return {
    lagP99Ms: lag.count ? lag.percentile(99) / 1e6 : 0,
    lagMaxMs: lag.count ? lag.max / 1e6 : 0,
    cpuMs: 0,
    sendLateP99Ms: Math.round(at(0.99) * 1000) / 1000,
    sendLateMaxMs: Math.round((sorted.length ? sorted[sorted.length - 1]! : 0) * 1000) / 1000,
    sendsOnTimeShare: sorted.length ? onTime / sorted.length : 1,
  };
}
