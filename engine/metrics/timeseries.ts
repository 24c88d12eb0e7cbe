// The run's time series: one point a second, built as the snapshots arrive so
// that a long run keeps a few numbers per second and not a snapshot each.
// Latency percentiles of a point cover that second only (the first step's
// service time), taken as the difference of two cumulative histograms.

import type { Histogram } from 'hdr-histogram-js';
import { decodeHistogram, percentiles } from './histogram.js';
import type { RunSnapshot } from './step-metrics.js';

export interface TimePoint {
  t: number;
  started: number;
  passed: number;
  failed: number;
  active: number;
  rate: number;
  p50: number;
  p99: number;
  /** The generator's V8 heap in use, MB (see RunSnapshot health.heapUsedMb). */
  heapMb?: number;
}

export class TimeSeries {
  readonly points: TimePoint[] = [{ t: 0, started: 0, passed: 0, failed: 0, active: 0, rate: 0, p50: 0, p99: 0 }];
  private prevMain: Histogram | undefined;

  add(t: number, snap: RunSnapshot): void {
    const prev = this.points[this.points.length - 1]!;
    const started = snap.roles.reduce((a, r) => a + r.started, 0);
    const main = snap.roles[0]?.steps[0];
    let p50 = 0;
    let p99 = 0;
    if (main) {
      // One decode: subtract the previous second's cumulative histogram, read, add it back.
      const h = decodeHistogram(main.service);
      if (this.prevMain) h.subtract(this.prevMain);
      ({ p50, p99 } = percentiles(h));
      if (this.prevMain) h.add(this.prevMain);
      this.prevMain = h;
    }
    this.points.push({
      t: Math.round(t),
      started,
      passed: snap.roles.reduce((a, r) => a + r.passed, 0),
      failed: snap.roles.reduce((a, r) => a + r.failed, 0),
      active: snap.roles.reduce((a, r) => a + r.running, 0),
      rate: started - prev.started,
      p50,
      p99,
      heapMb: snap.health.heapUsedMb,
    });
  }
}
