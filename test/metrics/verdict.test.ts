// The one verdict (engine/metrics/verdict.ts): passed only when nothing
// failed — steps, a role's instances, catalog checks, thresholds, workers,
// balance, an interruption —, the exit code from the result alone, steps
// never reached are skipped, failure counts out of what reached the step, and
// merge applies the same rule.

import t from 'tap';
import {
  conformanceOf, emptyRunSnapshot, evaluateThresholds, formatMeasured, mergeResults, parseThreshold, RoleMetrics, scenarioResult, totalsOf,
  VERDICT_EXIT, verdictOf, type RunResult,
} from '../../engine/metrics/index.js';
import { EXIT } from '../../cli/exit-codes.js';

/** A result of one scenario whose role ran `passed` instances through REGISTER then a recv BYE, and `failed` that timed out at the BYE. */
function result(o: { passed?: number; failedAtRecv?: number; neverStarted?: boolean } = {}): RunResult {
  const role = new RoleMetrics('reg', 'main', ['REGISTER', 'BYE', 'unregister']);
  const n = o.neverStarted ? 0 : (o.passed ?? 3) + (o.failedAtRecv ?? 0);
  for (let i = 0; i < n; i++) {
    role.started++;
    role.running++;
    const reg = role.steps[0]!;
    reg.sent++;
    reg.finals++;
    reg.code(200);
    reg.latency(2, 2);
    reg.passed++;
    const bye = role.steps[1]!;
    if (i < (o.failedAtRecv ?? 0)) {
      bye.timeouts++;
      role.instanceDone(false, 5, 5, "step 2 'BYE': no BYE received within 5s");
      continue;
    }
    bye.received++;
    bye.passed++;
    role.instanceDone(true, 5, 5);
  }
  const start = new Date('2026-11-29T10:00:00Z');
  const end = new Date('2026-11-29T10:00:10Z');
  const s = scenarioResult('reg', '/home/someone/reg.yaml', { ...emptyRunSnapshot(), roles: [role.snapshot()] }, start, end, []);
  return {
    totals: { ...totalsOf([s]), verdict: 'passed' }, kind: 'run', tool: { name: 'sipstorm', version: 'test' },
    settings: { target: 'sip:127.0.0.1:5060', embeddedServer: true, scenarios: [s.file], workers: 1, shard: { index: 0, count: 1 }, overrides: {} },
    machine: { hostname: 'h', cpus: 1, node: process.version, platform: process.platform },
    startedAt: s.startedAt, endedAt: s.endedAt, durationMs: 10_000, interrupted: false, exitCode: 0,
    scenarios: [s], thresholds: [], conformance: conformanceOf([s]), workerErrors: [], failures: [],
  };
}

t.test('the exit codes a verdict gives are those of the CLI contract', async (t) => {
  t.same(VERDICT_EXIT, { OK: EXIT.OK, FAILED: EXIT.FAILED, CANNOT_RUN: EXIT.CANNOT_RUN, INTERRUPTED: EXIT.INTERRUPTED, TERMINATED: EXIT.TERMINATED });
});

t.test('passed when nothing failed; a failed instance fails it, counted out of those that reached the step', async (t) => {
  const ok = verdictOf(result());
  t.same([ok.verdict, ok.exitCode, ok.reasons], ['passed', 0, []]);
  t.same(ok.items.filter((i) => i.kind === 'step').map((i) => `${i.name} ${i.outcome}`), ['REGISTER passed', 'BYE passed', 'unregister skipped']);
  t.match(ok.items.find((i) => i.name === 'unregister')!.message, /^not run: no instance reached step 3/, 'a step never reached is not a pass');

  const bad = verdictOf(result({ passed: 1, failedAtRecv: 2 }));
  t.same([bad.verdict, bad.exitCode], ['failed', 1]);
  const bye = bad.items.find((i) => i.name === 'BYE')!;
  t.equal(bye.outcome, 'failed');
  t.equal(bye.message, '2 of 3 failed: 2 × no request in time (timeout)', 'a recv step: out of the 3 that waited for it, not "of 0"');
  t.same(bad.reasons, ['2 instances failed']);
});

t.test('an interrupted run is never a pass; its exit code is the signal\'s', async (t) => {
  const r = result();
  r.interrupted = true;
  r.signal = 'SIGINT';
  const v = verdictOf(r);
  t.same([v.verdict, v.exitCode], ['failed', 130]);
  t.match(v.reasons[0], /^interrupted by SIGINT/);
  r.signal = 'SIGTERM';
  t.equal(verdictOf(r).exitCode, 143);
  delete r.signal;
  t.same([verdictOf(r).verdict, verdictOf(r).exitCode], ['failed', 1], 'a merged result of an interrupted shard: failed, exit 1');
});

t.test('thresholds, worker errors and counts that do not balance each fail it, with their reason', async (t) => {
  const r = result();
  r.thresholds = evaluateThresholds([parseThreshold('step.REGISTER.p99 < 10us', '--threshold')], r);
  let v = verdictOf(r);
  t.same([v.verdict, v.exitCode], ['failed', 1]);
  t.same(v.reasons, ['1 threshold failed']);
  t.match(v.items.find((i) => i.kind === 'threshold')!.message, /^step\.REGISTER\.p99 < 10us: got 2(\.\d+)? ms$/, 'the value in a time unit');

  const w = result();
  w.workerErrors = [{ worker: 1, code: 'WORKER_CRASHED', message: 'boom' }];
  t.same([verdictOf(w).verdict, verdictOf(w).exitCode], ['failed', 1]);
  const none = result({ neverStarted: true });
  none.workerErrors = [{ worker: 0, code: 'WORKER_START', message: 'port in use' }];
  t.equal(verdictOf(none).exitCode, 3, 'no instance started because a worker failed: cannot run');

  const b = result();
  b.scenarios[0]!.roles[0]!.steps[0]!.timeouts++;
  v = verdictOf(b);
  t.equal(v.verdict, 'failed');
  t.ok(v.reasons.some((x) => /^counts do not balance \(a sipstorm bug\): reg\/main\/REGISTER: sent 3 != final responses 3 \+ timeouts 1/.test(x)), v.reasons.join(' | '));
});

t.test('merge gives the same verdict by the same rule', async (t) => {
  const a = result();
  const b = result();
  b.interrupted = true;
  b.signal = 'SIGINT';
  const m = mergeResults([a, b]);
  t.same([m.totals.verdict, m.exitCode, m.interrupted, m.signal], ['failed', 1, true, undefined], 'a shard interrupted: the merged run is not a pass, exit 1');
  const ok = mergeResults([result(), result()]);
  t.same([ok.totals.verdict, ok.exitCode, ok.totals.passed], ['passed', 0, 6]);
});

t.test('a measured value is printed in its threshold\'s kind of unit', async (t) => {
  t.equal(formatMeasured(9.215, 'us'), '9.2 ms');
  t.equal(formatMeasured(0.85, 'ms'), '850 us');
  t.equal(formatMeasured(1250, 's'), '1.25 s');
  t.equal(formatMeasured(0.008, '%'), '0.8%');
  t.equal(formatMeasured(1, '%'), '100%');
  t.equal(formatMeasured(12, ''), '12');
  t.equal(parseThreshold('step.REGISTER.p99 < 200').unit, 'ms', 'a latency without a unit is in ms');
  t.throws(() => parseThreshold('failed.count < 5ms'), /is a count, not a time/);
});
