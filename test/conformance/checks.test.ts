// The conformance catalog: crafted responses trip exactly their check, and a
// deliberately broken embedded server (fault knobs) fails the matching checks
// and no other, while the compliant server passes every check that applies.

import t from 'tap';
import { createRequest, createResponse, parseMessage, serializeMessage } from '../../engine/codec/index.js';
import { ConformanceChecker } from '../../engine/conformance/index.js';
import { runCli } from '../support/cli.js';

const req = () =>
  createRequest({
    method: 'REGISTER', uri: 'sip:example.com', from: '<sip:a@example.com>;tag=f1', to: '<sip:a@example.com>',
    callId: 'c1@h', cseq: 7, via: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport', contact: '<sip:a@10.0.0.1:5060>',
  });

function failedChecks(mutate: (res: ReturnType<typeof createResponse>) => void, status = 200, reqMutate?: (r: ReturnType<typeof req>) => void): string[] {
  const r = req();
  reqMutate?.(r);
  const res = createResponse(r, status, undefined, 'to1');
  if (status === 200 && r.method === 'REGISTER') res.add('Contact', '<sip:a@10.0.0.1:5060>;expires=3600');
  mutate(res);
  const c = new ConformanceChecker();
  c.response(r, parseMessage(serializeMessage(res)));
  return Object.entries(c.counts).filter(([, v]) => v.failed > 0).map(([k]) => k).sort();
}

t.test('crafted responses trip exactly their check', async (t) => {
  t.same(failedChecks(() => {}), [], 'a correct 200 to REGISTER passes everything');
  t.same(failedChecks((r) => r.set('Call-ID', 'other@h')), ['response.call-id-echoed']);
  t.same(failedChecks((r) => r.set('CSeq', '8 REGISTER')), ['response.cseq-echoed']);
  t.same(failedChecks((r) => r.set('To', '<sip:a@example.com>')), ['response.to-tag']);
  t.same(failedChecks((r) => r.set('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKxyz')), ['response.via-echoed']);
  t.same(failedChecks((r) => r.set('Via', 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport=5060;received=10.0.0.9')), [], 'received/rport may be added');
  t.same(failedChecks((r) => r.remove('Contact')), ['response.register-bindings']);
  t.same(failedChecks((r) => (r.body = Buffer.from('x'))), ['response.content-type']);
  t.same(failedChecks(() => {}, 401), ['response.401-www-authenticate']);
  t.same(failedChecks(() => {}, 405), ['response.405-allow']);
  t.same(failedChecks(() => {}, 423), ['response.423-min-expires']);
  t.same(failedChecks(() => {}, 408), ['response.non-invite-408'], 'RFC 4320: no 408 to non-INVITE');
  t.same(failedChecks(() => {}, 200, (r) => {
    r.method = 'INVITE';
    r.set('CSeq', '7 INVITE');
  }), ['response.dialog-contact']);
});

const run = (args: string[]) => runCli([...args, '--workers', '1']);

const failing = (result: any) => result.conformance.filter((c: { failed: number }) => c.failed > 0).map((c: { id: string }) => c.id).sort();

t.test('the compliant embedded server passes every check that applies', async (t) => {
  const r = await run(['run', 'scenarios/']);
  t.equal(r.status, 0);
  // The 200 ms INVITE timing includes this machine's own load (tests run in parallel): a warning at most.
  t.same(failing(r.result).filter((id: string) => id !== 'timing.invite-100-trying'), []);
  t.ok(r.result.conformance.length >= 8, `${r.result.conformance.length} checks applied`);
  t.ok(r.result.conformance.find((c: { id: string }) => c.id === 'request.notify-event')?.passed > 0, 'NOTIFYs received were checked');
});

t.test('fault knob: no To tag -> response.to-tag fails, nothing else', async (t) => {
  const r = await run(['run', 'scenarios/options.yaml', 'scenarios/register-auth.yaml', '--fault-no-to-tag']);
  t.equal(r.status, 1, 'a failed MUST check fails the run');
  t.same(failing(r.result), ['response.to-tag']);
  t.match(r.out, /✗ response\.to-tag \(RFC 3261 §8\.2\.6\.2\)/);
});

t.test('fault knob: mangled Via -> response.via-echoed fails, nothing else', async (t) => {
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--total', '5', '--fault-mangle-via']);
  t.equal(r.status, 1);
  t.same(failing(r.result), ['response.via-echoed']);
});

t.test('fault knob: every message held 300 ms -> timing.invite-100-trying warns, nothing else', async (t) => {
  const r = await run(['run', 'scenarios/uac-call.yaml', '--total', '3', '--fault-delay', '300']);
  t.equal(r.status, 0, 'a warning does not fail the run');
  t.match(r.stdout, /workers busy #0 \d+%/, 'the console says how busy each worker was');
  t.same(failing(r.result), ['timing.invite-100-trying']);
  const c = r.result.conformance.find((x: { id: string }) => x.id === 'timing.invite-100-trying');
  t.equal(c.severity, 'warning');
  // The server holds every message 300 ms: the first answer can come no sooner (later on a busy machine).
  const after = Number(/first response 100 after (\d+) ms/.exec(c.examples[0])?.[1]);
  t.ok(after >= 300, `the example names the held answer's delay (${c.examples[0]})`);
});
