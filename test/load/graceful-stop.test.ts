// The graceful stop bounds a run whose instances outlast its load: calls
// that would pause an hour are stopped when the grace after the load's end
// runs out, counted as failed with the reason 'stopped', and the counts
// balance. Judged by what the run reports, not by how long it took.

import t from 'tap';
import { runCli } from '../support/cli.js';

const stoppedOnly = (reasons: Record<string, number>) => Object.keys(reasons).every((r) => /^stopped: /.test(r));

for (const [label, extra] of [['the scenario\'s load.gracefulStop (1s)', []], ['--graceful-stop 0s', ['--graceful-stop', '0s']]] as const) {
  t.test(`calls of an hour after a 1 s load: ${label} stops them, counted as failed 'stopped'`, async (t) => {
    const r = await runCli(['run', 'test/fixtures/scenarios/long-call.yaml', '--workers', '2', ...extra], { timeoutMs: 60_000 });
    t.equal(r.status, 1, r.out.slice(-1500));
    const role = r.result.scenarios[0].roles[0];
    t.equal(role.started, 5, 'five calls arrived in the second of load (5/s)');
    t.equal(role.failed, 5, 'all five were stopped');
    t.equal(role.passed + role.failed + (role.running ?? 0), role.started, 'started = passed + failed + running');
    t.ok(stoppedOnly(role.failureReasons), `reasons: ${JSON.stringify(role.failureReasons)}`);
    t.match(r.out, /stopped: still running when the graceful stop/, 'the console says why they failed');
    const bye = role.steps.find((s: { name: string }) => s.name === 'BYE');
    t.equal(bye.sent, 0, 'no BYE was sent: the calls were stopped in their pause');
  });
}

t.test('a closed model whose UAs think for an hour: the graceful stop ends the run, nothing fails', async (t) => {
  const r = await runCli(['run', 'test/fixtures/scenarios/closed-think.yaml', '--workers', '2'], { timeoutMs: 60_000 });
  t.equal(r.status, 0, r.out.slice(-1500));
  const role = r.result.scenarios[0].roles[0];
  t.equal(role.started, 4, 'each of the 4 UAs played once before its think time');
  t.equal(role.passed, 4);
  t.equal(role.running, 0, 'none left running');
});
