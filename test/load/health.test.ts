// The generator's view of itself: how far from their intended time arrivals
// started (its p99 and max, read off raw buckets every second, those of the
// histogram), and event-loop lag net of the probe's own interval.

import t from 'tap';
import type { IntervalHistogram } from 'node:perf_hooks';
import { healthOf, Lateness } from '../../engine/load/health.js';
import { newHistogram, percentiles, recordMs } from '../../engine/metrics/index.js';
import { Random } from '../../engine/random/index.js';

t.test('a start within 1 ms either side of its intended time is on time; only lateness makes the p99', async (t) => {
  const l = new Lateness();
  for (const ms of [-0.5, -0.2, 0, 0.3, 1, 1.01, 4]) l.record(ms);
  t.equal(l.onTimeShare, 5 / 7, 'half a millisecond early counts as on time; 1.01 ms late does not');
  const { max } = l.late();
  t.ok(max >= 3.99 && max <= 4.01, `max lateness ${max}`);
});

t.test('event-loop lag is what exceeds the probe interval (an idle loop has none)', async (t) => {
  const ns = (ms: number) => ms * 1e6;
  const idle = { count: 100, percentile: () => ns(10.18), max: ns(10.2) } as unknown as IntervalHistogram;
  const h = healthOf(idle, 10, undefined);
  t.equal(h.lagP99Ms, 0.18);
  t.equal(h.lagMaxMs, 0.2);
  const stalled = { count: 100, percentile: () => ns(27), max: ns(45) } as unknown as IntervalHistogram;
  t.same([healthOf(stalled, 10, undefined).lagP99Ms, healthOf(stalled, 10, undefined).lagMaxMs], [17, 35]);
  const never = { count: 0, percentile: () => 0, max: 0 } as unknown as IntervalHistogram;
  t.equal(healthOf(never, 10, undefined).lagP99Ms, 0);
});

t.test("lateness's p99 and max are the histogram's", async (t) => {
  const l = new Lateness();
  const h = newHistogram();
  const rng = new Random(7);
  for (let n = 0; n < 5000; n++) {
    const v = 0.05 * Math.exp(rng.nextOpen() * 13.3);
    const late = v / 100 - 0.3; // some early (negative), most under 1 ms, a tail of seconds
    l.record(late);
    recordMs(h, Math.max(0, late));
  }
  const p = percentiles(h);
  t.same(l.late(), { p99: p.p99, max: p.max });
});
