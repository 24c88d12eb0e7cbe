// The peer-ready rule: a caller starts once its peer UA reached its first
// wait for a request. Callees that register a second late still get every
// call (no pause in the callers), the wait shows in the callers' corrected
// latency; a peer that is never ready fails its caller, which sent nothing.

import t from 'tap';
import { runCli } from '../support/cli.js';

const roleOf = (r: { result?: { scenarios: { roles: { role: string }[] }[] } }, name: string) =>
  r.result!.scenarios[0]!.roles.find((x) => x.role === name) as unknown as {
    started: number; passed: number; failed: number; failureReasons: Record<string, number>;
    steps: { name: string; sent: number; corrected: { count: number; p50: number }; service: { p50: number } }[];
  };

t.test('callers wait for callees that register late, and the wait is in the corrected latency', async (t) => {
  const r = await runCli(['run', 'test/fixtures/scenarios/peer-late.yaml', '--workers', '2']);
  t.equal(r.status, 0, r.out.slice(-2500));
  const caller = roleOf(r, 'caller');
  t.match(caller, { started: 5, passed: 5, failed: 0 }, 'every call reached its callee');
  const invite = caller.steps.find((s) => s.name === 'INVITE')!;
  // The callee's pause is 1 s on its timer wheel, which never fires early: each INVITE went out after it.
  t.ok(invite.corrected.p50 >= 1000, `corrected p50 ${invite.corrected.p50} ms counts the wait for the callee`);
  t.ok(invite.service.p50 < invite.corrected.p50, 'the service time does not');
});

t.test('a peer that is never ready: its caller fails at its first step without sending anything', async (t) => {
  const r = await runCli(['run', 'test/fixtures/scenarios/peer-never-ready.yaml', '--workers', '1']);
  t.equal(r.status, 1, r.out.slice(-2500));
  const caller = roleOf(r, 'caller');
  t.match(caller, { started: 1, passed: 0, failed: 1 });
  t.same(Object.keys(caller.failureReasons), [
    "1 'INVITE': not started: its peer user301 (role callee) was not ready within 2s (it never reached a step that waits for a request)",
  ]);
  t.equal(caller.steps.find((s) => s.name === 'INVITE')!.sent, 0, 'no INVITE was sent');
  t.equal(r.result.totals.started, r.result.totals.passed + r.result.totals.failed + r.result.totals.running, 'counts balance');
});
