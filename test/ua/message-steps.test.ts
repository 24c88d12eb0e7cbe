// Message-level steps (SIPp's model) on a manual clock over an in-memory
// transport: a raw INVITE answered 180 then 486 takes the optional 486 step
// through the optional ones before it and its `next` label; a 200 skips the
// optional 486; a final response no step takes fails the step; a response
// that comes during a pause is taken by the response step after it; `set`
// arithmetic and comparison drive a `goto` with `if`; ${len}, ${last.*}
// (a missing one takes its line) and ${remote.tagParam} in what is sent.

import t from 'tap';
import { createResponse, type SipMessage } from '../../engine/codec/index.js';
import { compileScenarioText } from '../../engine/scenario/index.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';
import type { Endpoint } from '../../engine/transport/index.js';
import { WorkerRuntime, type InstanceOutcome } from '../../engine/ua/index.js';
import { MemoryLink, type PeerScript } from '../support/memory-transport.js';

const peer: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 5060 };

async function setup(yaml: string, script: PeerScript) {
  const wheel = new TimerWheel({ clock: new ManualClock(1000) });
  const link = new MemoryLink(peer, script);
  const rt = await WorkerRuntime.create(
    { scenario: compileScenarioText(yaml, 'inline.yaml'), target: peer, targetHostText: '127.0.0.1', targetUri: 'sip:127.0.0.1', localHost: '127.0.0.1', checks: false, openTransport: link.open },
    wheel,
  );
  const outcomes: InstanceOutcome[] = [];
  const start = () => rt.startInstance(0, 1, wheel.now(), (o) => outcomes.push(o));
  const steps = () => rt.snapshot().roles[0]!.steps;
  return { wheel, link, rt, outcomes, start, steps };
}

const invite = (extra = '') => `
  - raw: |
      INVITE sip:svc@\${target.host}:\${target.port} SIP/2.0
      Via: SIP/2.0/\${transport} \${local.host}:\${local.port};branch=\${branch}
      From: <sip:a@\${local.host}>;tag=t\${call.number}
      To: <sip:svc@\${target.host}>
      Call-ID: \${call.id}
      CSeq: 1 INVITE
      \${last.X-Missing};gone
      Content-Type: text/plain
      Content-Length: \${len}

      héllo
    wait: false${extra}
  - response: 100
    optional: true
  - response: 180
    optional: true
  - response: 486
    optional: true
    next: busy
  - response: 200
  - set: {var.path: ok}
  - goto: end
  - label: busy
  - set: {var.path: busy}
  - label: end
  - raw: |
      ACK sip:svc@\${target.host} SIP/2.0
      Via: SIP/2.0/UDP \${local.host}:\${local.port};branch=\${branch}
      From: <sip:a@\${local.host}>;tag=t\${call.number}
      To: <sip:svc@\${target.host}>\${remote.tagParam}
      Call-ID: \${call.id}
      CSeq: 1 ACK
      X-Path: \${var.path}
      Content-Length: 0
    wait: false
`;

function answer(codes: number[]): PeerScript {
  return (msg: SipMessage) => (msg.isRequest && msg.method === 'INVITE' ? codes.map((c) => createResponse(msg, c, undefined, 'peer')) : undefined);
}

t.test('180 then 486: through the optional steps to the 486 and its next label', async (t) => {
  const { link, outcomes, start, steps, rt } = await setup(`autoAnswer: false\nsteps:${invite()}`, answer([180, 486]));
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(outcomes.map((o) => o.passed), [true], 'passed');
  const [inv, ack] = link.received as [SipMessage, SipMessage];
  t.equal(inv.get('Content-Length'), '8', '${len}: the body in bytes (héllo and CRLF: é is two)');
  t.notOk(inv.raw!.toString().includes('gone'), 'a missing ${last.*} took the rest of its line');
  t.equal(ack.get('X-Path'), 'busy', 'the 486 step jumped to its label');
  t.equal(ack.to().tag, 'peer', '${remote.tagParam}: the tag of the last response');
  const counts = steps().map((s) => [s.name, s.received]);
  t.same(counts.slice(1, 5), [['response 100', 0], ['response 180', 1], ['response 486', 1], ['response 200', 0]], 'each response counted at the step that took it');
});

t.test('200 without provisionals: the optional 486 is passed over', async (t) => {
  const { link, outcomes, start, rt } = await setup(`autoAnswer: false\nsteps:${invite()}`, answer([200]));
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(outcomes.map((o) => o.passed), [true]);
  t.equal(link.received[1]!.get('X-Path'), 'ok');
});

t.test('a final response no step takes fails the step, naming both codes', async (t) => {
  const { link, outcomes, start, rt } = await setup(`autoAnswer: false\nsteps:${invite()}`, answer([503]));
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.equal(outcomes.length, 1);
  t.equal(outcomes[0]!.passed, false);
  t.match(outcomes[0]!.reason, /step 2 'response 100': expected 100, got 503/);
});

t.test('a response that comes during a pause is taken by the response step after it', async (t) => {
  const yaml = `autoAnswer: false\nsteps:${invite('\n  - pause: 50ms')}`;
  const { link, outcomes, start, wheel, rt } = await setup(yaml, answer([200]));
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(outcomes, [], 'still in the pause');
  wheel.advance(50);
  link.pump();
  t.same(outcomes.map((o) => o.passed), [true], 'the 200 taken after the pause');
  t.equal(link.received[1]!.get('X-Path'), 'ok');
});

t.test('set: arithmetic and comparison in order; goto with if', async (t) => {
  const yaml = `autoAnswer: false
steps:
  - set: {var.n: 3}
  - set: {var.n: {add: 4}}
  - set: {var.n: {multiply: 6}, var.big: {compare: ['\${var.n}', '>', 40]}, var.small: {compare: ['\${var.n}', '<', 5]}}
  - goto: skip
    if: var.small
  - goto: big
    if: var.big
  - label: skip
  - set: {var.path: wrong}
  - goto: send
  - label: big
  - set: {var.path: 'n=\${var.n}'}
  - label: send
  - raw: |
      MESSAGE sip:svc@\${target.host} SIP/2.0
      Via: SIP/2.0/UDP \${local.host}:\${local.port};branch=\${branch}
      From: <sip:a@\${local.host}>;tag=x
      To: <sip:svc@\${target.host}>
      Call-ID: \${call.id}
      CSeq: 1 MESSAGE
      X-Path: \${var.path}
      Content-Length: 0
    wait: false
`;
  const { link, outcomes, start, rt } = await setup(yaml, () => undefined);
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(outcomes.map((o) => o.passed), [true]);
  t.equal(link.received[0]!.get('X-Path'), 'n=42', '(3 + 4) * 6 = 42 > 40: the big branch');
});
