// The live progress and the time series add up the workers' snapshots second
// by second of the run: each point holds the workers' numbers at that second,
// whatever order and phase their reports arrive in; a finished worker counts
// with its final numbers (never a stale "running"), a crashed one is not
// waited for. Driven by reports alone: no clock is involved.

import t from 'tap';
import { emptyRaw, emptyRunSnapshot, SecondsOfWorkers, TimeSeries, type RunSnapshot } from '../../engine/metrics/index.js';
import { runCli } from '../support/cli.js';

/** A worker's cumulative numbers: `started` instances so far, `running` of them still going. */
function snap(started: number, running: number): RunSnapshot {
  const s = emptyRunSnapshot();
  s.roles.push({
    scenario: 's', role: 'main', started, passed: started - running, failed: 0, running, dropped: 0, steps: [],
    duration: emptyDuration, durationCorrected: emptyDuration, failureReasons: {},
  });
  return s;
}
const emptyDuration = emptyRaw();

function collect(slots: number) {
  const series = new TimeSeries();
  const seen: { second: number; started: number; active: number }[] = [];
  const agg = new SecondsOfWorkers(slots, (second, merged) => {
    series.add(second * 1000, merged);
    seen.push({ second, started: merged.roles[0]?.started ?? 0, active: merged.roles[0]?.running ?? 0 });
  });
  return { agg, series, seen };
}

t.test('two workers at 100/s each, reports out of phase: every second reads 200 started', async (t) => {
  const { agg, series, seen } = collect(2);
  // Worker 0 is ahead: seconds 1..3 arrive before worker 1's first.
  for (const k of [1, 2, 3]) agg.report(0, k, snap(100 * k, 5));
  t.same(seen, [], 'nothing is added up before both workers reported second 1');
  agg.report(1, 1, snap(100, 5));
  t.same(seen.map((p) => p.second), [1], 'second 1 as soon as both reported it');
  agg.report(1, 2, snap(200, 5));
  agg.report(1, 3, snap(300, 5));
  t.same(series.points.slice(1).map((p) => ({ t: p.t, rate: p.rate, active: p.active })), [
    { t: 1000, rate: 200, active: 10 },
    { t: 2000, rate: 200, active: 10 },
    { t: 3000, rate: 200, active: 10 },
  ], 'each second: the two workers\' numbers of that second');
  agg.report(1, 2, snap(999, 9));
  t.equal(seen.length, 3, 'a late duplicate of an added second changes nothing');
});

t.test('a finished worker counts with its final numbers, not its last running count', async (t) => {
  const { agg, seen } = collect(2);
  agg.report(0, 1, snap(50, 5));
  agg.report(1, 1, snap(50, 5));
  agg.report(0, 2, snap(100, 5));
  agg.finish(0, snap(100, 0)); // its instances ended, it reports no more seconds
  agg.report(1, 2, snap(100, 5));
  for (const k of [3, 4, 5]) agg.report(1, k, snap(100, k === 5 ? 0 : 1));
  t.same(seen, [
    { second: 1, started: 100, active: 10 },
    { second: 2, started: 200, active: 10 },
    { second: 3, started: 200, active: 1 },
    { second: 4, started: 200, active: 1 },
    { second: 5, started: 200, active: 0 },
  ]);
});

t.test('a crashed worker is not waited for; its replacement adds to what it left', async (t) => {
  const { agg, seen } = collect(2);
  agg.report(0, 1, snap(100, 2));
  agg.report(1, 1, snap(100, 2));
  agg.report(0, 2, snap(200, 2));
  agg.report(0, 3, snap(300, 2));
  // Worker 1 crashes before second 2: its last numbers (running counted as failed) stand for it.
  const crashed = snap(100, 0);
  agg.crash(1, crashed);
  t.same(seen.map((p) => [p.second, p.started]), [[1, 200], [2, 300], [3, 400]], 'seconds 2 and 3 without waiting for it');
  agg.revive(1);
  agg.report(0, 4, snap(400, 2));
  t.equal(seen.length, 3, 'the replacement is waited for');
  agg.report(1, 4, snap(50, 1));
  t.same(seen[3], { second: 4, started: 550, active: 3 }, 'second 4: worker 0, the crashed one\'s numbers and the replacement\'s');
});

t.test('a real run on 2 workers: one point per whole second, and the seconds add up to the run', async (t) => {
  const r = await runCli(['run', 'scenarios/options.yaml', '--rate', '100', '--duration', '3s', '--workers', '2', '--quiet']);
  t.equal(r.status, 0, r.out);
  const points: { t: number; started: number; rate: number }[] = r.result.scenarios[0].timeseries;
  const inner = points.slice(0, -1);
  t.same(inner.map((p) => p.t), inner.map((_, i) => i * 1000), 'every point but the last sits on a whole second of the run');
  t.equal(points.reduce((a, p) => a + p.rate, 0), r.result.totals.started, 'the per-second started add up to the run\'s');
  t.equal(points[points.length - 1]!.started, r.result.totals.started, 'the last point is the end of the run');
});
