// Failure reasons are bounded: counted by kind, a few examples each, at most
// MAX_REASON_KINDS kinds in a worker and after merging workers or shards.

import t from 'tap';
import { addExamples, addReasonCounts, isStepReason, MAX_REASON_EXAMPLES, MAX_REASON_KINDS, OTHER_REASONS, reasonText, RoleMetrics } from '../../engine/metrics/index.js';

t.test('a role keeps kinds with a few examples, and folds kinds past the bound', async (t) => {
  const m = new RoleMetrics('s', 'main', ['OPTIONS']);
  for (let i = 0; i < 1000; i++) {
    m.running++;
    m.instanceDone(false, 1, 1, `1 'OPTIONS': expected 200, got 503 Busy ${i}`, "1 'OPTIONS': expected 200, got 503");
  }
  t.same(m.failureReasons, { "1 'OPTIONS': expected 200, got 503": 1000 });
  t.equal(m.failureExamples["1 'OPTIONS': expected 200, got 503"]!.length, MAX_REASON_EXAMPLES);
  for (let i = 0; i < 300; i++) {
    m.running++;
    m.instanceDone(false, 1, 1, `kind ${i}`);
  }
  t.equal(Object.keys(m.failureReasons).length, MAX_REASON_KINDS + 1, 'the kinds kept plus one for the rest');
  const total = Object.values(m.failureReasons).reduce((a, b) => a + b, 0);
  t.equal(total, 1300, 'every failure still counted');
  t.ok(m.failureReasons[OTHER_REASONS]! > 0);
});

t.test('merging workers or shards keeps the bound', async (t) => {
  const a: Record<string, number> = {};
  const b: Record<string, number> = {};
  for (let i = 0; i < 80; i++) {
    a[`a ${i}`] = 1;
    b[`b ${i}`] = 2;
  }
  const merged = addReasonCounts(a, b);
  t.equal(Object.keys(merged).length, MAX_REASON_KINDS + 1);
  t.equal(Object.values(merged).reduce((x, y) => x + y, 0), 80 + 160);
  const ex = addExamples({ k: ['1', '2'] }, { k: ['2', '3', '4'] });
  t.same(ex, { k: ['1', '2', '3'] });
});

t.test("a step's reason reads 'step ...'; an instance's own reason reads as it is", async (t) => {
  t.equal(reasonText("1 'INVITE': expected 200, got 486"), "step 1 'INVITE': expected 200, got 486");
  t.equal(reasonText("'BYE': no final response within 32s"), "step 'BYE': no final response within 32s");
  t.equal(reasonText('scenario timeout: not finished within 20s (at step 2 \'ACK\')'), "scenario timeout: not finished within 20s (at step 2 'ACK')");
  t.equal(reasonText('stopped: still running 30s after the load ended'), 'stopped: still running 30s after the load ended');
  t.ok(isStepReason("3 'BYE': x") && !isStepReason('worker crashed: WORKER_CRASHED'));
});
