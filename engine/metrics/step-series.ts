// Per step, one point a second: the service-time percentiles of the requests
// answered in that second (p50/p90/p99, from the difference of two cumulative
// histograms) and the responses by class and timeouts of that second. What the
// HTML report and the live dashboard draw as "percentiles over time" and
// "response codes over time"; the run's TimeSeries keeps the first step only.
// A step keeps at most MAX_STEP_POINTS points: past them, neighbours are
// merged two by two (a point then spans several seconds: its percentiles are
// the worst second's, its counts the sums), so a day-long run's result stays
// within a few MB.

import type { RawHistogram } from './histogram.js';
import { rawPercentilesMs, subtractRaw, totalOf } from './raw-buckets.js';
import type { RunSnapshot } from './step-metrics.js';

export interface StepSecond {
  /** ms since the start, as TimePoint.t. */
  t: number;
  /** Latency samples in this second. */
  count: number;
  p50: number;
  p90: number;
  p99: number;
  /** Responses of this second by class: [1xx, 2xx, 3xx, 4xx, 5xx, 6xx]. */
  codes: number[];
  timeouts: number;
  /** Seconds the point covers, when more than one (older points of a long run). */
  span?: number;
}

/** Points a step keeps; past it, pairs are merged (one hour at one a second). */
export const MAX_STEP_POINTS = 3600;

/** Two neighbouring points as one: the worst second's percentiles, the sums of the counts. */
function mergePoints(a: StepSecond, b: StepSecond): StepSecond {
  return {
    t: b.t, count: a.count + b.count, p50: Math.max(a.p50, b.p50), p90: Math.max(a.p90, b.p90), p99: Math.max(a.p99, b.p99),
    codes: a.codes.map((n, k) => n + b.codes[k]!), timeouts: a.timeouts + b.timeouts, span: (a.span ?? 1) + (b.span ?? 1),
  };
}

export interface StepSeries {
  role: string;
  step: string;
  points: StepSecond[];
}

/** Responses by class, [1xx .. 6xx]. */
export function codeClasses(codes: Record<string, number>): number[] {
  const c = [0, 0, 0, 0, 0, 0];
  for (const [code, n] of Object.entries(codes)) {
    const k = Math.floor(Number(code) / 100) - 1;
    if (k >= 0 && k < 6) c[k]! += n;
  }
  return c;
}

interface Before {
  service: RawHistogram;
  codes: number[];
  timeouts: number;
}

export class StepSeriesBuilder {
  readonly series: StepSeries[] = [];
  private readonly before = new Map<string, Before>();

  /** Adds the point of the second ending at t (ms) from the run's cumulative snapshot at t. */
  add(t: number, snap: RunSnapshot): StepSecond[] {
    const added: StepSecond[] = [];
    for (const role of snap.roles)
      role.steps.forEach((step, i) => {
        const key = `${role.role}\u0000${i}`;
        let series = this.series.find((s) => s.role === role.role && s.step === step.name);
        if (!series) this.series.push((series = { role: role.role, step: step.name, points: [] }));
        const prev = this.before.get(key);
        const codes = codeClasses(step.codes);
        const delta = prev ? subtractRaw(step.service, prev.service) : step.service;
        const [p50, p90, p99] = rawPercentilesMs(delta, [50, 90, 99]);
        const point: StepSecond = {
          t: Math.round(t), count: totalOf(delta), p50: p50!, p90: p90!, p99: p99!,
          codes: codes.map((n, k) => n - (prev?.codes[k] ?? 0)), timeouts: step.timeouts - (prev?.timeouts ?? 0),
        };
        series.points.push(point);
        if (series.points.length > MAX_STEP_POINTS) {
          const p = series.points;
          series.points = Array.from({ length: Math.ceil(p.length / 2) }, (_, k) => (p[2 * k + 1] ? mergePoints(p[2 * k]!, p[2 * k + 1]!) : p[2 * k]!));
        }
        added.push(point);
        this.before.set(key, { service: step.service, codes, timeouts: step.timeouts });
      });
    return added;
  }
}
