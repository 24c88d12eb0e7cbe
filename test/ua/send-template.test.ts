// Send steps written by their byte templates (engine/ua/send-template.ts) are
// byte for byte what the header-by-header builder serializes, for every send
// step of the bundled scenarios and benchmarks, outside and within a dialog
// (with and without a route set, strict routing's extra Route included), and
// for steps that replace the mandatory headers, use compact names, set their
// own Content-Length or carry a UTF-8 body. The message that stands for the
// bytes answers what the transaction and dialog layers ask as the built one does.

import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { serializeMessage, WireWriter, type SipMessage } from '../../engine/codec/index.js';
import { compileScenarioText, loadScenarioFile, type SendStep, type TemplateVars } from '../../engine/scenario/index.js';
import { buildRequestMessage, NO_CONTACT, SendTemplate, writeAck, type RequestParts } from '../../engine/ua/send-template.js';
import { dialogRequestParts, inDialogRequest, type DialogState } from '../../engine/ua/dialog.js';

const root = new URL('../../../', import.meta.url).pathname;

/** Every name has a value of its own, one with a character outside ASCII. */
const vars: TemplateVars = { lookup: (name) => (name === 'user' ? 'alice' : `v-${name}-é`) };

function parts(step: SendStep, routes: string[]): RequestParts {
  return {
    uri: 'sip:bob@127.0.0.1:5070',
    from: '<sip:alice@127.0.0.1>;tag=abc123',
    to: '<sip:bob@127.0.0.1>;tag=xyz',
    callId: 'c1a2b3@127.0.0.1',
    cseq: 42,
    via: 'SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKtest1;rport',
    contact: NO_CONTACT.has(step.method) ? undefined : '<sip:alice@127.0.0.1:40000>',
    routes,
  };
}

const writer = new WireWriter();

function same(tt: Test, step: SendStep, inDialog: boolean, routes: string[], label: string): void {
  const p = parts(step, routes);
  const built: SipMessage = buildRequestMessage(step, inDialog, p, vars);
  const sent = SendTemplate.compile(step, inDialog).write(writer, p, vars);
  const expected = serializeMessage(built);
  tt.equal(sent.wire!.toString('utf8'), expected.toString('utf8'), `${label}: the same bytes`);
  tt.ok(sent.wire!.equals(expected), `${label}: byte for byte`);
  // What the transaction, dialog and conformance layers read, answered from the template's values before any list is made.
  const asked = ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Route', 'Authorization', 'Proxy-Authorization', 'Content-Type', 'X-Custom', 'Expires', 'Max-Forwards', 'User-Agent', 'Event', 'f', 'i', 'v'];
  const answers = (m: SipMessage) => asked.map((n) => [n, m.get(n), m.getAll(n), m.has(n), m.single(n)]);
  tt.same(answers(sent), answers(built), `${label}: get, getAll, has, single`);
  tt.same([sent.from().tag, sent.to().tag, sent.from().uri], [built.from().tag, built.to().tag, built.from().uri], `${label}: From and To`);
  tt.equal(sent.topBranch(), built.topBranch(), `${label}: top branch`);
  tt.same(sent.cseq(), built.cseq(), `${label}: CSeq`);
  tt.equal(sent.callId(), built.callId(), `${label}: Call-ID`);
  tt.equal(sent.uri, built.uri, `${label}: Request-URI`);
  tt.ok(sent.body.equals(built.body), `${label}: body`);
  // A step's own Content-Length stays in the built object but is never sent (serializeMessage writes the real one).
  tt.same(sent.headers, built.headers.filter((h) => h.name !== 'Content-Length'), `${label}: the header list read back off the bytes`);
  tt.ok(sent.wire, `${label}: reading it leaves the bytes to send`);
}

const files = [
  ...readdirSync(join(root, 'scenarios')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'scenarios', f)),
  ...readdirSync(join(root, 'scenarios/interop')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'scenarios/interop', f)),
  ...readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.yaml')).map((f) => join(root, 'bench', f)),
];

t.test('every send step of the bundled scenarios and benchmarks', async (t) => {
  let steps = 0;
  for (const file of files) {
    const sc = loadScenarioFile(file);
    for (const role of sc.roles) {
      for (const s of role.steps) {
        if (s.kind !== 'send' || s.method === 'ACK' || s.method === 'CANCEL') continue;
        steps++;
        const label = `${file.slice(root.length)} ${role.name} ${s.name}`;
        same(t, s, false, [], `${label} (no dialog)`);
        same(t, s, true, [], `${label} (dialog)`);
        same(t, s, true, ['<sip:p1@127.0.0.1;lr>', '<sip:p2@127.0.0.1;lr>'], `${label} (dialog, route set)`);
      }
    }
  }
  t.ok(steps >= 10, `${steps} send steps compared`);
});

t.test('steps that replace, add and rename headers', async (t) => {
  const sc = compileScenarioText(
    `name: edge
steps:
  - send: REGISTER
    headers:
      Contact: "<sip:\${user}@elsewhere>;expires=60"
      m: "<sip:second@x>"
      l: "999"
      Call-ID: "own-\${n}"
      X-Custom: "one"
      x-custom: "two \${user}"
      Max-Forwards: "10"
    expect: 200
  - send: MESSAGE
    to: "sip:bob@127.0.0.1"
    body: "héllo \${user} ✓"
    headers:
      Content-Type: text/x-own
      From: "\\"Al\\" <sip:al@x>;tag=t9"
    expect: 200
  - send: OPTIONS
    body: ""
    expect: 200
  - send: NOTIFY
    headers:
      o: presence
      Subscription-State: active
    body: "<presence entity='x'/>"
    expect: 200
`,
    'edge.yaml',
  );
  for (const s of sc.roles[0]!.steps) {
    if (s.kind !== 'send') continue;
    same(t, s, false, [], `${s.method} (no dialog)`);
    same(t, s, true, ['<sip:strict@127.0.0.1>', '<sip:p2@127.0.0.1;lr>', '<sip:remote@127.0.0.1>'], `${s.method} (dialog, strict route)`);
  }
  // A step's own Call-ID is read off the bytes.
  const reg = sc.roles[0]!.steps.find((s): s is SendStep => s.kind === 'send' && s.method === 'REGISTER')!;
  const sent = SendTemplate.compile(reg, false).write(writer, parts(reg, []), vars);
  t.equal(sent.callId(), 'own-v-n-é');
});

t.test('a sent request changed afterwards is serialized, not sent as first written', async (t) => {
  const sc = compileScenarioText(`name: x\nsteps:\n  - send: OPTIONS\n    expect: 200\n`, 'x.yaml');
  const step = sc.roles[0]!.steps[0] as SendStep;
  const sent = SendTemplate.compile(step, false).write(writer, parts(step, []), vars);
  t.ok(sent.wire);
  sent.set('Authorization', 'Digest x');
  t.equal(sent.wire, undefined, 'the bytes are let go');
  t.match(serializeMessage(sent).toString(), /\r\nAuthorization: Digest x\r\n/);
});

t.test('the ACK of a 2xx: the same bytes as the dialog request builder, with and without a route set', async (t) => {
  const via = 'SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKack1;rport';
  for (const routeSet of [[], ['<sip:p1@127.0.0.1;lr>', '<sip:p2@127.0.0.1;lr>'], ['<sip:strict@127.0.0.1>', '<sip:p2@127.0.0.1;lr>']]) {
    const d: DialogState = { callId: 'c1@h', localTag: 'lt', remoteTag: 'rt', localUri: 'sip:a@h', remoteUri: 'sip:b@h', remoteTarget: 'sip:b@10.0.0.1:5070', routeSet, localSeq: 7, remoteSeq: 0 };
    const expected = serializeMessage(inDialogRequest({ ...d }, 'ACK', via, undefined, 7));
    const p = dialogRequestParts({ ...d }, 'ACK', 7);
    const wire = writeAck({ uri: p.uri, from: p.from, to: p.to, callId: p.callId, cseq: p.cseq, via, contact: undefined, routes: p.routes });
    t.equal(wire.toString(), expected.toString(), `${routeSet.length} routes`);
  }
});
