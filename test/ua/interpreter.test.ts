// The scenario interpreter on a manual clock, over an in-memory transport to a
// tiny scripted peer: a REGISTER answered 401 and then 200 (one digest round,
// the credentials checked by the peer), a call INVITE/200/ACK/BYE (the ACK of
// the 2xx in the dialog, RFC 3261 §13.2.2.4), and a pause that ends exactly
// when the fake clock says so; on the UAS side, an INVITE answered and its 2xx
// retransmitted until the ACK (§13.3.1.4). Counts, verdicts and durations are the user's.

import t from 'tap';
import { buildChallenge, parseAuthorization, verifyAuthorization } from '../../engine/auth/index.js';
import { createRequest, createResponse, newBranch, type SipMessage } from '../../engine/codec/index.js';
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
    {
      scenario: compileScenarioText(yaml, 'inline.yaml'),
      target: peer, targetHostText: '127.0.0.1', targetUri: 'sip:127.0.0.1', localHost: '127.0.0.1',
      checks: false, openTransport: link.open,
    },
    wheel,
  );
  const outcomes: InstanceOutcome[] = [];
  const start = () => rt.startInstance(0, rt.roles[0]!.role.users.first, wheel.now(), (o) => outcomes.push(o));
  const steps = () => rt.snapshot().roles[0]!.steps;
  return { wheel, link, rt, outcomes, start, steps };
}

t.test('REGISTER: a 401 digest round, then 200', async (t) => {
  const yaml = "users:\n  user: 'alice'\n  password: 'wonderland'\nsteps:\n  - send: REGISTER\n    expect: 200\n";
  let challenged = 0;
  const { link, outcomes, start, steps, rt } = await setup(yaml, (req) => {
    if (req.method !== 'REGISTER') return;
    const auth = req.get('Authorization');
    if (!auth) {
      challenged++;
      const res = createResponse(req, 401, undefined, 'reg');
      res.add('WWW-Authenticate', buildChallenge({ realm: 'test', nonce: 'n0nce' }));
      return [res];
    }
    const creds = parseAuthorization(auth);
    return [createResponse(req, verifyAuthorization(creds, 'REGISTER', 'wonderland') ? 200 : 403, undefined, 'reg')];
  });
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.equal(challenged, 1, 'challenged once');
  t.same(link.seen(), ['REGISTER', 'REGISTER'], 'the REGISTER went again with credentials');
  const [first, second] = link.received as [SipMessage, SipMessage];
  t.equal(second.callId(), first.callId(), 'same Call-ID');
  t.ok(second.cseq().seq > first.cseq().seq, 'a higher CSeq');
  t.equal(parseAuthorization(second.get('Authorization')!).username, 'alice');
  t.same(outcomes.map((o) => o.passed), [true], 'the instance passed');
  const [s] = steps();
  t.match(s, { sent: 1, finals: 1, challenges: 1, passed: 1, timeouts: 0, errors: 0, codes: { 401: 1, 200: 1 } }, 'one request sent, its challenge counted, one final');
});

t.test('a call: INVITE, 200, ACK in the dialog, BYE', async (t) => {
  const yaml = [
    'steps:',
    "  - send: INVITE",
    "    to: 'sip:service@127.0.0.1'",
    '    expect: 200',
    '  - send: ACK',
    '  - send: BYE',
    '    expect: 200',
  ].join('\n') + '\n';
  const { link, outcomes, start, steps, rt } = await setup(yaml, (msg) => {
    if (msg.method === 'INVITE') {
      const ringing = createResponse(msg, 180, undefined, 'callee');
      const ok = createResponse(msg, 200, undefined, 'callee');
      ok.add('Contact', '<sip:service@127.0.0.1:5060>');
      return [ringing, ok];
    }
    if (msg.method === 'BYE') return [createResponse(msg, 200)];
  });
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(link.seen(), ['INVITE', 'ACK', 'BYE']);
  const [invite, ack, bye] = link.received as [SipMessage, SipMessage, SipMessage];
  t.equal(ack.cseq().seq, invite.cseq().seq, 'the ACK has the INVITE\'s CSeq number (§13.2.2.4)');
  t.equal(ack.to().tag, 'callee', 'the ACK is in the dialog');
  t.equal(ack.uri, 'sip:service@127.0.0.1:5060', 'to the remote target (the 2xx Contact)');
  t.equal(bye.to().tag, 'callee', 'the BYE is in the dialog');
  t.ok(bye.cseq().seq > invite.cseq().seq, 'with a higher CSeq');
  t.same(outcomes.map((o) => o.passed), [true]);
  const [inv, ackStep, byeStep] = steps();
  t.match(inv, { sent: 1, finals: 1, passed: 1, codes: { 180: 1, 200: 1 } });
  t.match(ackStep, { sent: 0, acks: 1, passed: 1 }, 'the ACK counted as an ACK, not a request awaiting a response');
  t.match(byeStep, { sent: 1, finals: 1, passed: 1, codes: { 200: 1 } });
});

t.test('a 2xx retransmitted after the call ended gets its ACK again from the transaction layer until Timer M (RFC 6026)', async (t) => {
  const yaml = "steps:\n  - send: INVITE\n    to: 'sip:service@127.0.0.1'\n    expect: 200\n  - send: ACK\n  - send: BYE\n    expect: 200\n";
  let ok: SipMessage | undefined;
  const { wheel, link, outcomes, start, rt } = await setup(yaml, (msg) => {
    if (msg.method === 'INVITE') {
      ok = createResponse(msg, 200, undefined, 'callee');
      ok.add('Contact', '<sip:service@127.0.0.1:5060>');
      return [ok];
    }
    if (msg.method === 'BYE') return [createResponse(msg, 200)];
  });
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(outcomes.map((o) => o.passed), [true], 'the call is over');
  t.equal(rt.layer.clientCount, 0, 'no transaction keeps the finished call');
  wheel.advance(20_000);
  link.toRuntime(ok!);
  link.pump();
  t.same(link.seen(), ['INVITE', 'ACK', 'BYE', 'ACK'], 'the retransmitted 200 was ACKed again');
  const [, ack, , again] = link.received as SipMessage[];
  t.equal(again!.cseq().seq, ack!.cseq().seq, 'with the same ACK');
  t.equal(again!.topBranch(), ack!.topBranch());
  t.equal(rt.snapshot().transport.retransmissionsReceived, 1, 'counted as a retransmission received');
  wheel.advance(30_000);
  link.toRuntime(ok!);
  link.pump();
  t.equal(link.received.length, 4, 'past 64*T1 (and a quarter) nothing is sent any more');
});

t.test("a UA's CSeq goes on across its calls, unless the load runner says each user plays once", async (t) => {
  const yaml = "users:\n  user: 'alice'\nsteps:\n  - send: OPTIONS\n    expect: 200\n";
  const { link, outcomes, start, rt } = await setup(yaml, (msg) => [createResponse(msg, 200)]);
  t.teardown(() => rt.close());
  const seqs = () => link.received.map((m) => m.cseq().seq);
  start();
  link.pump();
  start();
  link.pump();
  t.same(seqs(), [1, 2], 'the same user, called again, counts on');
  rt.roles[0]!.usersPlayOnce = true;
  start();
  link.pump();
  start();
  link.pump();
  t.same(seqs(), [1, 2, 3, 1], 'its state went with its call: nothing of a user that plays once is kept');
  t.same(outcomes.map((o) => o.passed), [true, true, true, true]);
});

t.test('a pause ends when the fake clock reaches it, and the duration is exact', async (t) => {
  const yaml = 'steps:\n  - send: OPTIONS\n    expect: 200\n  - pause: 2s\n  - send: OPTIONS\n    expect: 200\n';
  const { wheel, link, outcomes, start, rt } = await setup(yaml, (msg) => (msg.isRequest && msg.method === 'OPTIONS' ? [createResponse(msg, 200)] : undefined));
  t.teardown(() => rt.close());
  start();
  link.pump();
  t.same(link.seen(), ['OPTIONS'], 'the first OPTIONS answered, the pause begins');
  wheel.advance(1999);
  link.pump();
  t.same(link.seen(), ['OPTIONS'], 'nothing sent 1 ms before the pause ends');
  t.same(outcomes, [], 'still running');
  wheel.advance(1);
  link.pump();
  t.same(link.seen(), ['OPTIONS', 'OPTIONS'], 'the next step at 2 s');
  t.equal(outcomes.length, 1);
  t.equal(outcomes[0]!.passed, true);
  t.equal(outcomes[0]!.durationMs, 2000, 'the instance took the pause, to the millisecond');
});

t.test('a step timeout is judged on the fake clock: no final response within the step timeout', async (t) => {
  const yaml = 'steps:\n  - send: OPTIONS\n    timeout: 3s\n    expect: 200\n';
  const { wheel, link, outcomes, start, steps, rt } = await setup(yaml, () => undefined);
  t.teardown(() => rt.close());
  start();
  link.pump();
  wheel.advance(2999);
  t.same(outcomes, [], 'not failed before its timeout');
  wheel.advance(1);
  t.equal(outcomes.length, 1);
  t.equal(outcomes[0]!.passed, false);
  t.match(outcomes[0]!.reason, /^step 1 'OPTIONS': no final response within 3s$/);
  const [s] = steps();
  t.match(s, { sent: 1, finals: 0, timeouts: 1, errors: 0 }, 'sent = answered + timed out + errored');
});

t.test('the UAS side: an INVITE answered 180 and 200, the 2xx retransmitted until the ACK, then BYE', async (t) => {
  const yaml = "users:\n  user: 'bob'\nsteps:\n  - recv: INVITE\n    reply: [180, 200]\n  - recv: ACK\n  - recv: BYE\n    reply: 200\n";
  const { wheel, link, outcomes, start, steps, rt } = await setup(yaml, () => undefined);
  t.teardown(() => rt.close());
  start();
  const invite = createRequest({
    method: 'INVITE', uri: 'sip:bob@127.0.0.1:5099', from: '<sip:alice@127.0.0.1>;tag=caller', to: '<sip:bob@127.0.0.1>',
    callId: 'call-1', cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:5060;branch=${newBranch()}`, contact: '<sip:alice@127.0.0.1:5060>',
  });
  link.toRuntime(invite);
  link.pump();
  t.same(link.seen(), ['180', '200'], 'answered 180 then 200');
  const ok = link.received[1]!;
  const toTag = ok.to().tag!;
  t.ok(toTag, 'the 200 has a To tag');
  t.match(ok.get('Contact'), /^<sip:bob@127\.0\.0\.1:5099>$/, 'and the Contact of the UA');
  // RFC 3261 §13.3.1.4: the 2xx goes again at T1, 2*T1, ... until the ACK.
  wheel.advance(499);
  link.pump();
  t.equal(link.received.length, 2, 'not retransmitted before T1');
  wheel.advance(1);
  link.pump();
  t.same(link.seen(), ['180', '200', '200'], 'retransmitted at T1 (500 ms)');
  wheel.advance(1000);
  link.pump();
  t.same(link.seen(), ['180', '200', '200', '200'], 'and at 2*T1 after that');
  const inDialog = (method: string, cseq: number) =>
    createRequest({
      method, uri: 'sip:bob@127.0.0.1:5099', from: '<sip:alice@127.0.0.1>;tag=caller', to: `<sip:bob@127.0.0.1>;tag=${toTag}`,
      callId: 'call-1', cseq, via: `SIP/2.0/UDP 127.0.0.1:5060;branch=${newBranch()}`,
    });
  link.toRuntime(inDialog('ACK', 1));
  wheel.advance(4000);
  link.pump();
  t.equal(link.received.length, 4, 'no retransmission after the ACK');
  link.toRuntime(inDialog('BYE', 2));
  link.pump();
  t.same(link.seen().slice(4), ['200'], 'the BYE answered 200');
  t.same(outcomes.map((o) => o.passed), [true], 'the instance passed');
  t.match(steps(), [{ received: 1, passed: 1 }, { received: 1, passed: 1 }, { received: 1, passed: 1 }]);
});

t.test('the UAS side: a 2xx never ACKed is sent again at T1 doubling to T2, and given up at 64*T1 (a timeout counted)', async (t) => {
  const yaml = "users:\n  user: 'bob'\nsteps:\n  - recv: INVITE\n    reply: 200\n  - recv: ACK\n    optional: true\n    timeout: 60s\n";
  const { wheel, link, outcomes, start, rt } = await setup(yaml, () => undefined);
  t.teardown(() => rt.close());
  start();
  link.toRuntime(createRequest({
    method: 'INVITE', uri: 'sip:bob@127.0.0.1:5099', from: '<sip:alice@127.0.0.1>;tag=caller', to: '<sip:bob@127.0.0.1>',
    callId: 'call-2', cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:5060;branch=${newBranch()}`, contact: '<sip:alice@127.0.0.1:5060>',
  }));
  link.pump();
  const sentAt: number[] = [0];
  const started = wheel.now();
  for (let ms = 0; ms < 40_000; ms += 250) {
    wheel.advance(250);
    link.pump();
    while (sentAt.length < link.received.length) sentAt.push(wheel.now() - started);
  }
  // T1 = 500 ms, T2 = 4 s: 0.5, 1.5, 3.5, 7.5, then every 4 s while under 64*T1 = 32 s since the first 2xx.
  t.same(sentAt, [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500], 'the 2xx at T1, doubling to T2, for 64*T1');
  const c = rt.snapshot().transport;
  t.equal(c.retransmissionsSent, 10, 'each one counted a retransmission');
  t.equal(c.timeouts, 1, 'and the ACK that never came a timeout');
  t.same(outcomes, [], 'the scenario decides what comes next (its ACK step is still waiting)');
});

t.test('the UAS side: the instance ending stops its 2xx retransmission', async (t) => {
  const yaml = "users:\n  user: 'bob'\nsteps:\n  - recv: INVITE\n    reply: 200\n";
  const { wheel, link, outcomes, start, rt } = await setup(yaml, () => undefined);
  t.teardown(() => rt.close());
  start();
  link.toRuntime(createRequest({
    method: 'INVITE', uri: 'sip:bob@127.0.0.1:5099', from: '<sip:alice@127.0.0.1>;tag=caller', to: '<sip:bob@127.0.0.1>',
    callId: 'call-3', cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:5060;branch=${newBranch()}`, contact: '<sip:alice@127.0.0.1:5060>',
  }));
  link.pump();
  t.same(outcomes.map((o) => o.passed), [true], 'its last step answered: the instance passed');
  wheel.advance(40_000);
  link.pump();
  t.same(link.seen(), ['200'], 'the 2xx was not sent again after the end');
  t.equal(rt.snapshot().transport.retransmissionsSent, 0);
});
