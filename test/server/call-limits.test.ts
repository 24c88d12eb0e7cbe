// The built-in UAS's call limits with a manual clock: a 2xx never ACKed ends
// the call at 64*T1 (RFC 3261 §13.3.1.4), an ACKed call lives until BYE or its
// lifetime, a ringing call rings out with 408, and over real UDP a full UAS
// answers a new INVITE 503 with Retry-After while a retransmission of a call
// it took still gets its 200.

import t from 'tap';
import { createRequest, newBranch, newTag, parseMessage, type SipMessage } from '../../engine/codec/index.js';
import { DEFAULT_CALL_LIMITS, type CallLimits } from '../../engine/server/call-limits.js';
import { makeAnswer, newServerStats, type ServerCore } from '../../engine/server/core.js';
import { startServer } from '../../engine/server/index.js';
import { BuiltinUas } from '../../engine/server/uas.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';
import { TransactionLayer } from '../../engine/transaction/index.js';
import type { Endpoint } from '../../engine/transport/index.js';
import { TestClient } from '../support/udp-client.js';

const peer: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 5070 };

function setup(limits: Partial<CallLimits> = {}) {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const sent: { at: number; msg: SipMessage }[] = [];
  const stats = newServerStats();
  // eslint-disable-next-line prefer-const
  let uas: BuiltinUas;
  const layer = new TransactionLayer({
    wheel,
    send: (data) => sent.push({ at: wheel.now(), msg: parseMessage(data) }),
    onRequest: (req, tx, source) => {
      if (!tx) uas.handleAck(req.callId());
      else if (req.method === 'INVITE') uas.handleInvite(tx, /^sip:([^@]+)@/.exec(req.uri)![1]!, source);
      else if (!uas.handleInDialog(tx)) core.answer(tx, 481);
    },
  });
  const core = {
    layer, wheel, stats, faults: {},
    answer: (tx, status, o = {}) => makeAnswer(core, tx, status, o, newTag),
    hostPort: () => '127.0.0.1:5060',
    local: () => ({ protocol: 'udp', host: '127.0.0.1', port: 5060 }),
  } as Partial<ServerCore> as ServerCore;
  uas = new BuiltinUas(core, { ...DEFAULT_CALL_LIMITS, ...limits });
  return { wheel, sent, layer, uas, stats };
}

function invite(user: string, callId = `c-${newBranch()}`): SipMessage {
  return createRequest({
    method: 'INVITE', uri: `sip:${user}@127.0.0.1:5060`, from: '<sip:alice@127.0.0.1>;tag=a1', to: `<sip:${user}@127.0.0.1>`,
    callId, cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:5070;branch=${newBranch()}`,
  });
}

function inDialog(method: string, inv: SipMessage, toTag: string, cseq: number): SipMessage {
  return createRequest({
    method, uri: inv.uri, from: inv.get('From')!, to: `${inv.get('To')};tag=${toTag}`, callId: inv.callId(), cseq,
    via: `SIP/2.0/UDP 127.0.0.1:5070;branch=${newBranch()}`,
  });
}

t.test('a 2xx never ACKed: retransmitted, then the call ends at 64*T1 and a later BYE gets 481', async (t) => {
  const { wheel, sent, layer, uas, stats } = setup();
  const inv = invite('service');
  layer.receive(inv, peer);
  const ok = sent.find((s) => s.msg.status === 200)!.msg;
  t.equal(uas.activeCalls, 1);
  wheel.advance(31_999);
  t.equal(uas.activeCalls, 1, 'still waiting for the ACK just before 64*T1');
  t.ok(sent.filter((s) => s.msg.status === 200).length > 5, 'the 2xx was retransmitted meanwhile');
  wheel.advance(1);
  t.equal(uas.activeCalls, 0, 'ended at 64*T1 = 32 s');
  t.equal(stats.callsTimedOut, 1);
  const sentBefore = sent.length;
  wheel.advance(10_000);
  t.equal(sent.length, sentBefore, 'no more retransmissions, and no BYE');
  layer.receive(inDialog('BYE', inv, ok.to().tag!, 2), peer);
  t.equal(sent.at(-1)!.msg.status, 481);
});

t.test('over TCP (no 2xx retransmission) a 2xx never ACKed ends the call at 64*T1 all the same', async (t) => {
  const { wheel, sent, layer, uas } = setup();
  layer.receive(invite('service'), { ...peer, protocol: 'tcp' });
  wheel.advance(31_999);
  t.equal(sent.filter((s) => s.msg.status === 200).length, 1, 'sent once: the connection is reliable');
  t.equal(uas.activeCalls, 1);
  wheel.advance(1);
  t.equal(uas.activeCalls, 0);
});

t.test('an ACKed call outlives 64*T1 and ends at its lifetime; BYE ends it at once', async (t) => {
  const { wheel, sent, layer, uas, stats } = setup({ establishedMs: 600_000 });
  const inv = invite('echo');
  layer.receive(inv, peer);
  const ok = sent.find((s) => s.msg.status === 200)!.msg;
  wheel.advance(1_000);
  layer.receive(inDialog('ACK', inv, ok.to().tag!, 1), peer);
  wheel.advance(100_000);
  t.equal(uas.activeCalls, 1, 'established: kept past 64*T1');
  wheel.advance(500_000);
  t.equal(uas.activeCalls, 0, 'forgotten at its lifetime');
  t.equal(stats.callsTimedOut, 0, 'an established call reaching its lifetime is no timeout');
  const inv2 = invite('echo');
  layer.receive(inv2, peer);
  const ok2 = sent.filter((s) => s.msg.status === 200).at(-1)!.msg;
  layer.receive(inDialog('ACK', inv2, ok2.to().tag!, 1), peer);
  layer.receive(inDialog('BYE', inv2, ok2.to().tag!, 2), peer);
  t.equal(sent.at(-1)!.msg.status, 200);
  t.equal(uas.activeCalls, 0);
});

t.test('a ringing call rings out with 408 after ringingMs; its transaction then ends without an ACK', async (t) => {
  const { wheel, sent, layer, uas, stats } = setup();
  layer.receive(invite('ringing'), peer);
  t.same(sent.map((s) => s.msg.status), [100, 180]);
  wheel.advance(179_999);
  t.equal(uas.activeCalls, 1);
  t.notOk(sent.some((s) => s.msg.status >= 200), 'no final answer before 180 s');
  wheel.advance(1);
  const final = sent.find((s) => s.msg.status >= 200)!;
  t.equal(final.msg.status, 408);
  t.equal(final.at, 180_000);
  t.equal(final.msg.to().tag, sent[1]!.msg.to().tag, 'the To tag of the 180');
  t.equal(uas.activeCalls, 0);
  t.equal(stats.callsTimedOut, 1);
  wheel.advance(40_000);
  t.equal(wheel.size, 0, 'no timer left: Timer H ended the transaction');
});

t.test('over UDP, a full UAS answers a new INVITE 503 with Retry-After; a retransmission of a call it took gets its 200', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'], calls: { maxCalls: 2, retryAfterS: 7 } });
  const client = await new TestClient(server.endpoints[0]!.port).start();
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  const uri = `sip:service@127.0.0.1:${server.endpoints[0]!.port}`;
  const finalFor = (req: SipMessage) => (m: SipMessage) => !m.isRequest && m.status >= 200 && m.callId() === req.callId();
  const first = client.request('INVITE', uri);
  client.send(first);
  t.equal((await client.wait(finalFor(first))).status, 200);
  const second = client.request('INVITE', uri);
  client.send(second);
  t.equal((await client.wait(finalFor(second))).status, 200);
  const third = client.request('INVITE', uri);
  client.send(third);
  const shed = await client.wait(finalFor(third));
  t.equal(shed.status, 503);
  t.equal(shed.get('Retry-After'), '7');
  t.ok(shed.to().tag, 'a To tag, as any final response has');
  client.send(first); // the same bytes again: a retransmission
  t.equal((await client.wait(finalFor(first))).status, 200, 'absorbed by its transaction, not refused');
  const s = server.stats();
  t.equal(s.activeCalls, 2);
  t.equal(s.callsShed, 1);
  t.equal(s.requests.INVITE, 3, 'the shed INVITE is counted as a request');
  t.equal(s.responses['503'], 1);
});
