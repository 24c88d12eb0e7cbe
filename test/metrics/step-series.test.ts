// Per-step series and the raw-histogram readings behind them and behind the
// Prometheus histogram: each second's percentiles come from that second's
// answers only (the difference of two cumulative histograms), responses and
// timeouts are that second's, and counts at or below fixed bounds match the
// values recorded. Raw-bucket percentiles (what the worker's health and the
// coordinator's time series read every second, in one pass) are the values
// hdr-histogram-js's own percentiles give.

import t from 'tap';
import { emptyRaw, emptyRunSnapshot, MAX_STEP_POINTS, newHistogram, percentiles, rawOf, recordMs, StepSeriesBuilder, TimeSeries, type RunSnapshot } from '../../engine/metrics/index.js';
import { countsAtOrBelow, rawPercentilesMs, subtractRaw, sumUs } from '../../engine/metrics/raw-buckets.js';
import { Random } from '../../engine/random/index.js';

/** A run snapshot of one role with one step whose service times (ms) and codes are given, cumulative. */
function snap(serviceMs: number[], codes: Record<string, number>, timeouts = 0): RunSnapshot {
  const h = newHistogram();
  for (const v of serviceMs) recordMs(h, v);
  const s = emptyRunSnapshot();
  s.roles.push({
    scenario: 's', role: 'main', started: serviceMs.length, passed: serviceMs.length, failed: 0, running: 0, dropped: 0, failureReasons: {},
    duration: emptyRaw(), durationCorrected: emptyRaw(),
    steps: [{ name: 'REGISTER', sent: serviceMs.length + timeouts, finals: serviceMs.length, timeouts, errors: 0, challenges: 0, acks: 0, passed: 0, failed: 0, received: 0, codes, failures: {}, service: rawOf(h), corrected: rawOf(h) }],
  });
  return s;
}

t.test("each second's percentiles are that second's answers", async (t) => {
  const b = new StepSeriesBuilder();
  const first = Array.from({ length: 100 }, () => 1);
  b.add(1000, snap(first, { 200: 100 }));
  // Second 2: 100 more answers at 50 ms, and 3 timeouts; the cumulative histogram holds both seconds.
  b.add(2000, snap([...first, ...Array.from({ length: 100 }, () => 50)], { 200: 150, 503: 50 }, 3));
  b.add(3000, snap([...first, ...Array.from({ length: 100 }, () => 50)], { 200: 150, 503: 50 }, 3));
  const [series] = b.series;
  t.equal(series!.step, 'REGISTER');
  const [p1, p2, p3] = series!.points;
  t.same([p1!.count, p1!.p50, p1!.p99], [100, 1, 1], 'second 1: 100 answers at 1 ms');
  t.same([p2!.count, Math.round(p2!.p50), Math.round(p2!.p99)], [100, 50, 50], 'second 2: its own 100 answers at 50 ms (to 3 significant digits), not the run so far');
  t.same(p2!.codes, [0, 50, 0, 0, 50, 0], "second 2's responses by class");
  t.equal(p2!.timeouts, 3);
  t.same([p3!.count, p3!.codes, p3!.timeouts], [0, [0, 0, 0, 0, 0, 0], 0], 'a quiet second is empty');
});

t.test('raw histogram readings', async (t) => {
  const a = newHistogram();
  for (const v of [0.5, 1, 2, 4, 30, 700]) recordMs(a, v);
  const raw = rawOf(a);
  const { below, total } = countsAtOrBelow(raw, [500, 1000, 2500, 5000, 100_000, 1_000_000]);
  t.same(below, [1, 2, 3, 4, 5, 6], 'values at or below each bound (µs), a bound itself included');
  t.equal(total, 6);
  t.same(countsAtOrBelow(emptyRaw(), [1000]), { below: [0], total: 0 }, 'an empty histogram');
  t.ok(Math.abs(sumUs(raw) - 737_500) / 737_500 < 0.001, `the sum to 3 significant digits (${sumUs(raw)})`);
  const b = newHistogram();
  for (const v of [0.5, 1, 2]) recordMs(b, v);
  const diff = subtractRaw(raw, rawOf(b));
  t.same(countsAtOrBelow(diff, [5000, 1_000_000]).below, [1, 3], 'the difference holds what came after');
});

t.test('a long run keeps at most MAX_STEP_POINTS points a step, older ones merged two by two', async (t) => {
  const b = new StepSeriesBuilder();
  const n = MAX_STEP_POINTS + 1;
  // One more answer (at 1 ms) and one more 200 every second; second 7 also has a 40 ms answer.
  const values: number[] = [];
  for (let k = 1; k <= n; k++) {
    values.push(k === 7 ? 40 : 1);
    b.add(k * 1000, snap(values, { 200: k }));
  }
  const points = b.series[0]!.points;
  t.equal(points.length, Math.ceil(n / 2), 'halved once it went past the bound');
  t.equal(points.reduce((a, p) => a + (p.span ?? 1), 0), n, 'the points still cover every second');
  t.equal(points.reduce((a, p) => a + p.count, 0), n, 'and every answer');
  t.equal(points.reduce((a, p) => a + p.codes[1]!, 0), n, 'and every response');
  t.equal(points[points.length - 1]!.t, n * 1000, 'the last point ends at the last second');
  t.equal(Math.round(points[3]!.p99), 40, "a merged point keeps its worst second's percentiles (seconds 7 and 8)");
});

/** Latencies from 0.05 ms to about 30 s, log-spread, from a fixed seed. */
function latencies(n: number, seed: number): number[] {
  const rng = new Random(seed);
  return Array.from({ length: n }, () => 0.05 * Math.exp(rng.nextOpen() * 13.3));
}

t.test('raw-bucket percentiles are hdr-histogram-js percentiles', async (t) => {
  for (const [n, seed] of [[1, 1], [7, 2], [1000, 3], [20000, 4]] as const) {
    const h = newHistogram();
    for (const v of latencies(n, seed)) recordMs(h, v);
    const p = percentiles(h);
    t.same(rawPercentilesMs(rawOf(h), [50, 90, 99, 99.9]), [p.p50, p.p90, p.p99, p.p999], `${n} values`);
  }
});

t.test("a time point's p50 and p99 are those of its own second", async (t) => {
  const first = latencies(3000, 5);
  const second = latencies(3000, 6).map((v) => v * 3);
  const ts = new TimeSeries();
  ts.add(1000, snap(first, {}));
  ts.add(2000, snap([...first, ...second], {}));
  const alone = newHistogram();
  for (const v of second) recordMs(alone, v);
  const p = percentiles(alone);
  t.same([ts.points[2]!.p50, ts.points[2]!.p99], [p.p50, p.p99]);
  t.equal(ts.points[2]!.rate, 3000);
});
