// Conformance cases played on the UA core (engine/ua/case-steps.ts) by one
// ScenarioInstance on a CaseHost, over an in-memory transport to a scripted
// server and on a manual clock: silence judged when the silence wait ends and
// not a millisecond before, a provisional step whose final a later step
// takes (and acknowledges, §17.1.1.3), `retransmitted: 2` holding the ACK
// until the final came twice more, and a digest mode the server never asks
// for ending the case not applicable (neither passed nor failed); and the
// suite runner's case loop, whose liveness OPTIONS is a program on the core.

import t from 'tap';
import { createResponse, type SipMessage } from '../../engine/codec/index.js';
import { ConformanceChecker } from '../../engine/conformance/index.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';
import type { Endpoint } from '../../engine/transport/index.js';
import { CaseHost } from '../../engine/suites/case-host.js';
import { caseProgram } from '../../engine/suites/case-program.js';
import { parseExpectation, SuiteRunner } from '../../engine/suites/index.js';
import { requestTemplate, type SuiteCase, type SuiteStep } from '../../engine/suites/load.js';
import { MemoryLink, type PeerScript } from '../support/memory-transport.js';

const server: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 5060 };
const timing = { answerMs: 4000, silenceMs: 1000 };

const INVITE = requestTemplate(
  'INVITE sip:bob@${domain} SIP/2.0\nVia: SIP/2.0/UDP ${local};branch=${branch};rport\nMax-Forwards: 70\nFrom: <sip:${user}@${domain}>;tag=${tag}\n' +
  'To: <sip:bob@${domain}>\nCall-ID: ${call.id}\nCSeq: ${cseq} INVITE\nContact: <sip:${user}@${local}>\nContent-Length: 0\n');
const REGISTER = requestTemplate(
  'REGISTER sip:${domain} SIP/2.0\nVia: SIP/2.0/UDP ${local};branch=${branch};rport\nMax-Forwards: 70\nFrom: <sip:${user}@${domain}>;tag=${tag}\n' +
  'To: <sip:${user}@${domain}>\nCall-ID: ${call.id}\nCSeq: ${cseq} REGISTER\nContact: <sip:${user}@${local}>\nContent-Length: 0\n');

function step(over: Omit<Partial<SuiteStep>, 'expect'> & { expect: string }): SuiteStep {
  return { headers: [], match: [], capture: [], pauseMs: 0, ...over, expect: parseExpectation(over.expect) };
}

function oneCase(steps: SuiteStep[]): SuiteCase {
  return { id: 'case-1', rfc: 'RFC 3261', section: '17', title: 'a case', steps };
}

async function setup(script: PeerScript) {
  const wheel = new TimerWheel({ clock: new ManualClock(1000) });
  const link = new MemoryLink(server, script);
  const host = await CaseHost.open({ target: server, targetHostText: '127.0.0.1', localHost: '127.0.0.1', wheel, checker: new ConformanceChecker(), openTransport: link.open });
  const vars: Record<string, string> = {
    local: host.localText, domain: '127.0.0.1:5060', 'target.host': '127.0.0.1', 'target.port': '5060',
    'call.id': 'conform-1@sipstorm', tag: 't1', user: 'alice', password: 'secret',
  };
  const play = (c: SuiteCase) => host.play(caseProgram(c, vars, timing), { index: 0, user: 'alice', password: 'secret', fields: {} });
  return { wheel, link, host, play };
}

t.test('drop: silence passes when the silence wait ends, not a millisecond before; an answer fails it', async (t) => {
  const options = Buffer.from('OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-tort\r\nMax-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: torture-1\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n');
  let answer = false;
  const { wheel, link, host, play } = await setup((msg) => (answer ? [createResponse(msg, 400)] : undefined));
  let ended = false;
  const silent = play(oneCase([step({ bytes: options, expect: 'drop' })])).then((p) => ((ended = true), p));
  link.pump();
  t.match(link.received[0]!.get('Via'), new RegExp(`^SIP/2\\.0/UDP ${host.localText.replace(/\./g, '\\.')}(;rport)?;branch=z9hG4bK-tort`), 'the torture message went out with our address in its top Via');
  wheel.advance(999);
  await Promise.resolve();
  t.notOk(ended, 'still waiting 1 ms before the silence wait ends');
  wheel.advance(1);
  const p = await silent;
  t.same(p.verdict, {}, 'no answer, no problem');
  t.equal(p.outcome.passed, true);
  t.equal(p.outcome.durationMs, 1000, 'the silence wait, to the millisecond');
  t.same(p.ladder.map((e) => e.dir), ['sent']);

  answer = true;
  const loud = play(oneCase([step({ bytes: options, expect: 'drop' })]));
  link.pump();
  const q = await loud;
  t.same(q.verdict, { status: 400, reasonPhrase: 'Bad Request', problem: 'expected drop, got 400' }, 'an answer where silence was due fails, with the code');
  t.equal(q.outcome.passed, false);
  t.same(q.ladder.map((e) => e.dir), ['sent', 'received']);
});

t.test('a provisional step passes on its 180; a later step takes the final, which is acknowledged', async (t) => {
  let invite: SipMessage | undefined;
  const { link, play } = await setup((msg) => {
    if (msg.method !== 'INVITE') return;
    invite = msg;
    return [createResponse(msg, 100), createResponse(msg, 180, undefined, 'callee')];
  });
  const played = play(oneCase([step({ template: INVITE, expect: '180' }), step({ final: 'INVITE', expect: '486' })]));
  link.pump();
  t.same(link.seen(), ['INVITE']);
  link.toRuntime(createResponse(invite!, 486, undefined, 'callee'));
  link.pump();
  const p = await played;
  t.same(p.verdict, { status: 486, reasonPhrase: 'Busy Here' });
  t.equal(p.outcome.passed, true);
  t.same(link.seen(), ['INVITE', 'ACK'], 'the 486 acknowledged (§17.1.1.3)');
  t.equal(link.received[1]!.cseq().seq, invite!.cseq().seq, 'the ACK has the INVITE\'s CSeq number');
  t.equal(invite!.cseq().seq, 1, '${cseq} counts the case\'s requests from 1');
});

t.test('retransmitted: 2 holds the ACK until the final came twice more', async (t) => {
  let invite: SipMessage | undefined;
  const { wheel, link, play } = await setup((msg) => {
    if (msg.method !== 'INVITE') return;
    invite = msg;
    return [createResponse(msg, 486, undefined, 'callee')];
  });
  const played = play(oneCase([step({ template: INVITE, expect: '486', retransmitted: 2 })]));
  link.pump();
  link.toRuntime(createResponse(invite!, 486, undefined, 'callee'));
  link.pump();
  t.same(link.seen(), ['INVITE'], 'one retransmission: no ACK yet');
  link.toRuntime(createResponse(invite!, 486, undefined, 'callee'));
  link.pump();
  const p = await played;
  t.same(link.seen(), ['INVITE', 'ACK'], 'the second one: acknowledged');
  t.same(p.verdict, { status: 486, reasonPhrase: 'Busy Here' });
  t.equal(p.outcome.passed, true);

  const short = play(oneCase([step({ template: INVITE, expect: '486', retransmitted: 2 })]));
  link.pump();
  link.toRuntime(createResponse(invite!, 486, undefined, 'callee'));
  wheel.advance(4000);
  const q = await short;
  t.equal(q.verdict.problem, 'the 486 came 1 more time in 4.0 s without an ACK; 2 retransmissions were due');
  t.equal(q.outcome.passed, false);
});

t.test('a digest mode the server never asks for: not applicable, neither passed nor failed', async (t) => {
  const { link, play } = await setup((msg) => (msg.method === 'REGISTER' ? [createResponse(msg, 200, undefined, 'reg')] : undefined));
  const played = play(oneCase([step({ template: REGISTER, expect: '200', auth: 'SHA-256' }), step({ template: REGISTER, expect: '200' })]));
  link.pump();
  const p = await played;
  t.equal(p.verdict.notApplicable, 'the server asked for no credentials (REGISTER answered 200 OK without a challenge)');
  t.equal(p.verdict.problem, undefined);
  t.equal(p.outcome.passed, false);
  t.equal(p.outcome.notApplicable, p.verdict.notApplicable, 'the instance\'s outcome says so too');
  t.equal(p.outcome.reason, undefined, 'and names no failure');
  t.same(link.seen(), ['REGISTER'], 'the case ended there');
});

t.test('the case loop: a liveness OPTIONS after each case; after a server stops answering the rest are not run', async (t) => {
  let up = true;
  const link = new MemoryLink(server, (msg) => (up && msg.isRequest && msg.method !== 'ACK' ? [createResponse(msg, msg.method === 'INVITE' ? 486 : 200, undefined, 'srv')] : undefined));
  const wheel = new TimerWheel({ clock: new ManualClock(1000) });
  const runner = await SuiteRunner.open({ target: server, targetHostText: '127.0.0.1', localHost: '127.0.0.1', wheel, openTransport: link.open });
  t.teardown(() => runner.close());
  // Plays a case to its end: the server answers what reaches it, the clock moves only when nothing else can happen.
  const settle = async <T>(p: Promise<T>): Promise<T> => {
    let done = false;
    void p.then(() => (done = true));
    while (!done) {
      await new Promise((resolve) => setImmediate(resolve));
      link.pump();
      if (!done) wheel.advance(50);
    }
    return p;
  };
  const first = await settle(runner.run('s', oneCase([step({ template: REGISTER, expect: '200' })])));
  t.match(first, { status: 200, problem: undefined, notRun: undefined }, 'a case passes, the server answers its OPTIONS');
  t.same(link.seen().slice(-2), ['REGISTER', 'OPTIONS'], 'the case, then the liveness OPTIONS');
  const crash = oneCase([step({ template: INVITE, expect: '486' })]);
  link.received.length = 0;
  const second = settle(runner.run('s', crash));
  up = false;
  const r = await second;
  t.equal(r.status, undefined, 'no answer came');
  t.equal(r.problem, 'expected 486, got no answer; the server stopped answering OPTIONS after this case');
  t.same(link.seen(), ['INVITE', 'OPTIONS', 'OPTIONS', 'OPTIONS'], 'asked three times');
  const third = await settle(runner.run('s', oneCase([step({ template: REGISTER, expect: '200' })])));
  t.match(third, { notRun: true, problem: 'not run: the server stopped answering after s/case-1' });
  t.equal(link.seen().length, 4, 'nothing sent for a case not run');
});
