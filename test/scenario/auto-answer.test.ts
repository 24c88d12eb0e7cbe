// Requests nobody waits for: a NOTIFY that comes while the watcher pauses
// (no step ahead receives a NOTIFY) is answered 200 at once and counted as
// unexpected, so the server does not retransmit it; with `autoAnswer: false`
// it waits unanswered (the server retransmits) and gets 481 at the end.

import t from 'tap';
import { runCli } from '../support/cli.js';

t.test('an unwaited in-dialog NOTIFY is answered 200 at once (autoAnswer, the default)', async (t) => {
  const r = await runCli(['run', 'test/fixtures/scenarios/auto-answer.yaml', '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-1500));
  const tr = r.result.scenarios[0].transport;
  t.equal(tr.unexpectedRequests, 2, "each watcher's second NOTIFY counted as unexpected");
  t.equal(tr.retransmissionsReceived, 0, 'the server had no reason to retransmit it');
});

t.test('autoAnswer: false: the NOTIFY waits, the server retransmits it, and it gets 481 at the end', async (t) => {
  const r = await runCli(['run', 'test/fixtures/scenarios/auto-answer-off.yaml', '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-1500));
  const tr = r.result.scenarios[0].transport;
  t.equal(tr.unexpectedRequests, 2, 'still counted as unexpected (answered when the instance ended)');
  t.ok(tr.retransmissionsReceived > 0, `the server retransmitted the unanswered NOTIFY (${tr.retransmissionsReceived} times)`);
});
