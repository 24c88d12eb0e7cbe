// Percentiles read off raw buckets (what the worker's health and the
// coordinator's time series read every second, in one pass) are the values
// hdr-histogram-js's own percentiles give, for spread-out latencies, for one
// second taken out of a cumulative histogram, and for arrival lateness.

import t from 'tap';
import { newHistogram, percentiles, rawOf, recordMs, emptyRunSnapshot, emptyRaw, TimeSeries, type RunSnapshot } from '../../engine/metrics/index.js';
import { rawPercentilesMs } from '../../engine/metrics/raw-buckets.js';
import { Lateness } from '../../engine/load/health.js';
import { Random } from '../../engine/random/index.js';

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

/** A one-role run snapshot whose first step holds the service times given (cumulative). */
function snapOf(serviceMs: number[]): RunSnapshot {
  const h = newHistogram();
  for (const v of serviceMs) recordMs(h, v);
  const s = emptyRunSnapshot();
  s.roles.push({
    scenario: 's', role: 'main', started: serviceMs.length, passed: serviceMs.length, failed: 0, running: 0, dropped: 0, failureReasons: {},
    duration: emptyRaw(), durationCorrected: emptyRaw(),
    steps: [{ name: 'OPTIONS', sent: serviceMs.length, finals: serviceMs.length, timeouts: 0, errors: 0, challenges: 0, acks: 0, passed: 0, failed: 0, received: 0, codes: {}, failures: {}, service: rawOf(h), corrected: rawOf(h) }],
  });
  return s;
}

t.test("a time point's p50 and p99 are those of its own second", async (t) => {
  const first = latencies(3000, 5);
  const second = latencies(3000, 6).map((v) => v * 3);
  const ts = new TimeSeries();
  ts.add(1000, snapOf(first));
  ts.add(2000, snapOf([...first, ...second]));
  const alone = newHistogram();
  for (const v of second) recordMs(alone, v);
  const p = percentiles(alone);
  t.same([ts.points[2]!.p50, ts.points[2]!.p99], [p.p50, p.p99]);
  t.equal(ts.points[2]!.rate, 3000);
});

t.test("lateness's p99 and max are the histogram's", async (t) => {
  const l = new Lateness();
  const h = newHistogram();
  for (const v of latencies(5000, 7)) {
    const late = v / 100 - 0.3; // some early (negative), most under 1 ms, a tail of seconds
    l.record(late);
    recordMs(h, Math.max(0, late));
  }
  const p = percentiles(h);
  t.same(l.late(), { p99: p.p99, max: p.max });
});
