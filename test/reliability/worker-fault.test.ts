// A worker that throws mid-run: its error is reported with its code, the
// other workers stop, the reports are written, exit 1; never a silent hang.
// With --restart-workers a replacement takes over and the run goes on.
// A worker that cannot start (address not available): exit 3 with the reason.

import t from 'tap';
import { runCli } from '../support/cli.js';

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

t.test('a worker throws mid-run', async (t) => {
  const started = Date.now();
  const r = await run(['run', 'scenarios/options.yaml', '--rate', '50', '--duration', '30s', '--workers', '2'], { SIPSTORM_FAULT_WORKER_THROW_MS: '1500' });
  t.equal(r.status, 1, r.out.slice(-500));
  t.ok(Date.now() - started < 20_000, 'the run ended early instead of running on or hanging');
  t.match(r.out, /worker 0 failed: FAULT_INJECTED: injected worker fault/);
  const result = r.result;
  t.same(result.workerErrors.map((e: { code: string }) => e.code), ['FAULT_INJECTED']);
  t.equal(result.totals.verdict, 'failed');
  t.ok(result.totals.started > 0, 'what ran is reported');
});

t.test('a worker cannot start: exit 3 with the reason', async (t) => {
  const r = await run(['run', 'scenarios/options.yaml', '--local-host', '192.0.2.1', '--workers', '1']);
  t.equal(r.status, 3);
  t.match(r.out, /sipstorm: worker 0 could not start: bind EADDRNOTAVAIL 192\.0\.2\.1/);
});

t.test('--restart-workers: a crashed worker is replaced and the run goes on to its end', async (t) => {
  const r = await run(['run', 'scenarios/options.yaml', '--rate', '50', '--duration', '6s', '--workers', '2', '--restart-workers'], { SIPSTORM_FAULT_WORKER_THROW_MS: '1500' });
  t.match(r.out, /worker 0 failed: FAULT_INJECTED: injected worker fault .*\(replaced; its running instances counted as failed\)/);
  const result = r.result;
  t.same(result.workerErrors.map((e: { code: string; restarted: boolean }) => [e.code, e.restarted]), [['FAULT_INJECTED', true]]);
  const role = result.scenarios[0].roles[0];
  t.equal(role.started, role.passed + role.failed + role.running, 'started = passed + failed + running');
  // 300 arrivals over 6 s: each is started or, if it fell due while worker 0 was dead, dropped.
  t.ok(role.started + role.dropped >= 290 && role.started + role.dropped <= 300, `arrivals accounted for: ${role.started} started + ${role.dropped} dropped`);
  // Those arrivals are the replacement's doing (without it worker 0's share after the crash is lost); how many
  // it dropped depends on how long a new worker takes to start on this machine, so what is judged is that
  // only the instances running at the crash failed and every other arrival passed or was dropped.
  t.ok(role.failed <= 10, `only the instances running at the crash failed: ${role.failed}`);
  t.ok(role.passed + role.dropped >= 280, `the replacement carried on: ${role.passed} passed + ${role.dropped} dropped`);
  const options = role.steps[0];
  t.equal(options.sent, options.finals + options.timeouts + options.errors, 'sent = finals + timeouts + errors');
  t.ok(result.durationMs >= 5500, 'the run lasted its whole duration');
});
