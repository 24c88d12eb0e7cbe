// RFC 3261 §17 transaction behaviour with a manual clock and a recording
// send function: retransmission schedules, timeouts, ACK generation,
// absorption of retransmissions and matching.

import t from 'tap';
import { createRequest, createResponse, MessageScan, parseMessage, serializeMessage, newBranch, type SipMessage } from '../../engine/codec/index.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';
import { TransactionLayer, type ServerTransaction } from '../../engine/transaction/index.js';
import type { Endpoint } from '../../engine/transport/index.js';

const peer: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 5060 };
const tcpPeer: Endpoint = { protocol: 'tcp', host: '127.0.0.1', port: 5060 };

function setup() {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const sent: { at: number; msg: SipMessage }[] = [];
  const requests: { req: SipMessage; tx: ServerTransaction | undefined }[] = [];
  const layer = new TransactionLayer({
    wheel,
    send: (data) => sent.push({ at: wheel.now(), msg: parseMessage(data) }),
    onRequest: (req, tx) => requests.push({ req, tx }),
  });
  return { wheel, sent, layer, requests };
}

function request(method: string, branch = newBranch()): SipMessage {
  return createRequest({
    method, uri: 'sip:bob@example.com', from: '<sip:alice@example.com>;tag=a1', to: '<sip:bob@example.com>',
    callId: `c-${branch}`, cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:5070;branch=${branch}`,
  });
}

t.test('non-INVITE client: Timer E doubles to T2, Timer F times out at 64*T1', async (t) => {
  const { wheel, sent, layer } = setup();
  let timedOut = 0;
  layer.sendRequest(request('OPTIONS'), peer, { onResponse: () => t.fail('no response'), onTimeout: () => timedOut++ });
  wheel.advance(40_000);
  t.same(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  t.equal(timedOut, 1);
  t.equal(layer.counters.timeouts, 1);
  t.equal(layer.counters.retransmissionsSent, 10);
  t.equal(layer.clientCount, 0, 'terminated transaction is forgotten');
});

t.test('INVITE client: Timer A doubles without cap until a provisional, Timer B at 32 s', async (t) => {
  const { wheel, sent, layer } = setup();
  let timedOut = 0;
  layer.sendRequest(request('INVITE'), peer, { onResponse: () => {}, onTimeout: () => timedOut++ });
  wheel.advance(33_000);
  t.same(sent.map((s) => s.at), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  t.equal(timedOut, 1);
});

t.test('no retransmissions over TCP; timeout still fires', async (t) => {
  const { wheel, sent, layer } = setup();
  let timedOut = 0;
  layer.sendRequest(request('REGISTER'), tcpPeer, { onResponse: () => {}, onTimeout: () => timedOut++ });
  wheel.advance(33_000);
  t.equal(sent.length, 1);
  t.equal(timedOut, 1);
});

t.test('INVITE client: 486 is ACKed by the transaction, retransmitted 486 re-ACKed', async (t) => {
  const { wheel, sent, layer } = setup();
  const invite = request('INVITE');
  invite.add('Route', '<sip:proxy.example.com;lr>');
  const got: number[] = [];
  layer.sendRequest(invite, peer, { onResponse: (r) => got.push(r.status), onTimeout: () => t.fail('timeout') });
  const ringing = createResponse(invite, 180, undefined, 'b1');
  layer.receive(parseMessage(serializeMessage(ringing)), peer);
  wheel.advance(5000);
  t.equal(sent.length, 1, 'Timer A stops in Proceeding');
  const busy = createResponse(invite, 486, undefined, 'b1');
  layer.receive(parseMessage(serializeMessage(busy)), peer);
  const ack = sent[1]!.msg;
  t.equal(ack.method, 'ACK');
  t.equal(ack.uri, invite.uri, 'same Request-URI');
  t.equal(ack.topVia().branch, invite.topVia().branch, 'same branch as the INVITE');
  t.equal(ack.cseq().seq, 1);
  t.equal(ack.cseq().method, 'ACK');
  t.equal(ack.to().tag, 'b1', 'To from the response');
  t.equal(ack.get('Route'), '<sip:proxy.example.com;lr>', 'Route from the INVITE');
  layer.receive(parseMessage(serializeMessage(busy)), peer);
  t.equal(sent.length, 3, 'retransmitted final answered with the ACK again');
  t.same(got, [180, 486], 'TU sees each response once');
  t.equal(layer.counters.retransmissionsReceived, 1);
});

t.test('non-INVITE client: a final retransmitted within Timer K (T4) is absorbed, after it is stray', async (t) => {
  const { wheel, sent, layer } = setup();
  const options = request('OPTIONS');
  const got: number[] = [];
  layer.sendRequest(options, peer, { onResponse: (r) => got.push(r.status), onTimeout: () => t.fail('timeout') });
  const ok = serializeMessage(createResponse(options, 200, undefined, 'b1'));
  layer.receive(parseMessage(ok), peer);
  t.same(got, [200]);
  t.equal(layer.clientCount, 0, 'the completed transaction itself is let go at once');
  wheel.advance(4_000);
  layer.receive(parseMessage(ok), peer);
  t.same(got, [200], 'the retransmitted 200 is not passed up again');
  t.equal(layer.counters.retransmissionsReceived, 1);
  t.equal(layer.counters.stray, 0);
  t.equal(sent.length, 1, 'nothing is sent in Completed');
  wheel.advance(6_500);
  layer.receive(parseMessage(ok), peer);
  t.equal(layer.counters.stray, 1, 'past 1.25*T4 the key is gone');
});

t.test('a retransmitted final read only off its bytes (MessageScan) is absorbed as receive() absorbs it', async (t) => {
  const { wheel, layer } = setup();
  const options = request('OPTIONS');
  const got: number[] = [];
  const scan = new MessageScan();
  const ok = serializeMessage(createResponse(options, 200, undefined, 'b1'));
  t.equal(scan.scan(ok), 'ok');
  layer.sendRequest(options, peer, { onResponse: (r) => got.push(r.status), onTimeout: () => t.fail('timeout') });
  t.notOk(layer.absorbRetransmission(scan.branch, scan.cseqMethod, scan.status), 'the first 200 goes to its live transaction: it must be parsed');
  layer.receive(scan.toMessage(), peer);
  t.same(got, [200]);
  wheel.advance(4_000);
  t.ok(layer.absorbRetransmission(scan.branch, scan.cseqMethod, scan.status), 'within Timer K the retransmitted 200 is absorbed');
  t.notOk(layer.absorbRetransmission(scan.branch, 'INVITE', scan.status), 'another method is another transaction');
  t.same(got, [200]);
  t.equal(layer.counters.retransmissionsReceived, 1);
  wheel.advance(6_500);
  t.notOk(layer.absorbRetransmission(scan.branch, scan.cseqMethod, scan.status), 'past 1.25*T4 it is for receive(), which counts it stray');
  t.equal(layer.counters.stray, 0);
});

t.test('INVITE client in Accepted (RFC 6026): a 2xx retransmitted after the UA handed over its ACK gets that ACK again until Timer M', async (t) => {
  const { wheel, sent, layer } = setup();
  const invite = request('INVITE');
  const got: number[] = [];
  const tx = layer.sendRequest(invite, peer, { onResponse: (r) => got.push(r.status), onTimeout: () => t.fail('timeout') });
  const ok = serializeMessage(createResponse(invite, 200, undefined, 'b1'));
  layer.receive(parseMessage(ok), peer);
  layer.receive(parseMessage(ok), peer);
  t.same(got, [200, 200], 'before the hand-over a retransmitted 2xx goes to the UA, which sends its ACK again');
  const ack = Buffer.from('ACK sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKack\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n');
  tx.handOverAck(ack, peer);
  t.equal(tx.state, 'terminated');
  t.equal(layer.clientCount, 0, 'the transaction, its request and its user are let go at once');
  ack.fill(0);
  wheel.advance(20_000);
  layer.receive(parseMessage(ok), peer);
  t.same(got, [200, 200], 'after it the UA is not told');
  t.equal(sent.length, 2, 'the INVITE, then the ACK again');
  t.equal(sent[1]!.msg.method, 'ACK', 'the layer kept its own copy of the ACK');
  const scan = new MessageScan();
  t.equal(scan.scan(ok), 'ok');
  t.ok(layer.absorbRetransmission(scan.branch, scan.cseqMethod, scan.status), 'read off its bytes, the 2xx is absorbed too');
  t.equal(sent.length, 3);
  const busy = serializeMessage(createResponse(invite, 486, undefined, 'b1'));
  layer.receive(parseMessage(busy), peer);
  t.equal(sent.length, 3, 'Accepted drops anything but a 2xx, and ACKs nothing else');
  t.equal(layer.counters.retransmissionsReceived, 3);
  t.equal(layer.counters.stray, 0);
  wheel.advance(21_000);
  layer.receive(parseMessage(ok), peer);
  t.equal(layer.counters.stray, 1, 'past 1.25*64*T1 the branch is forgotten');
  t.equal(sent.length, 3);
});

t.test('an INVITE client transaction that is not in Accepted keeps its user: handOverAck does nothing there', async (t) => {
  const { sent, layer } = setup();
  const invite = request('INVITE');
  const got: number[] = [];
  const tx = layer.sendRequest(invite, peer, { onResponse: (r) => got.push(r.status), onTimeout: () => {} });
  tx.handOverAck(Buffer.from('ACK'), peer);
  t.equal(tx.state, 'calling');
  layer.receive(parseMessage(serializeMessage(createResponse(invite, 200, undefined, 'b1'))), peer);
  t.same(got, [200]);
  t.equal(sent.length, 1);
});

t.test('non-INVITE server: retransmitted request re-sends the last response; Timer J', async (t) => {
  const { wheel, sent, layer, requests } = setup();
  const reg = request('REGISTER');
  const data = serializeMessage(reg);
  layer.receive(parseMessage(data), peer);
  t.equal(requests.length, 1);
  requests[0]!.tx!.respond(createResponse(requests[0]!.req, 200, undefined, 'x'));
  layer.receive(parseMessage(data), peer);
  t.equal(requests.length, 1, 'retransmission is absorbed, not passed up');
  t.equal(sent.length, 2);
  t.equal(sent[1]!.msg.status, 200);
  t.equal(layer.serverCount, 1);
  wheel.advance(32_001);
  t.equal(layer.serverCount, 0, 'Timer J ends it');
});

t.test('INVITE server: 100 Trying after 200 ms, Timer G retransmits 486 until ACK', async (t) => {
  const { wheel, sent, layer, requests } = setup();
  const invite = request('INVITE');
  layer.receive(parseMessage(serializeMessage(invite)), peer);
  wheel.advance(250);
  t.equal(sent[0]?.msg.status, 100, 'automatic 100 Trying');
  requests[0]!.tx!.respond(createResponse(requests[0]!.req, 486, undefined, 'b'));
  wheel.advance(2000);
  t.same(sent.slice(1).map((s) => s.at), [250, 750, 1750], 'Timer G: T1, 2*T1');
  const ack = request('ACK', invite.topVia().branch);
  ack.set('CSeq', '1 ACK');
  layer.receive(parseMessage(serializeMessage(ack)), peer);
  wheel.advance(10_000);
  t.equal(sent.length, 4, 'no retransmission after the ACK');
  t.equal(requests.length, 1, 'the ACK of a non-2xx stays in the transaction');
});

t.test('INVITE server: Timer H gives up without ACK', async (t) => {
  const { wheel, layer, requests } = setup();
  layer.receive(parseMessage(serializeMessage(request('INVITE'))), peer);
  let noAck = 0;
  requests[0]!.tx!.onNoAck = () => noAck++;
  requests[0]!.tx!.respond(createResponse(requests[0]!.req, 603, undefined, 'b'));
  wheel.advance(33_000);
  t.equal(noAck, 1);
  t.equal(layer.serverCount, 0);
});

t.test('CANCEL matches its INVITE; RFC 2543 requests match without a cookie branch', async (t) => {
  const { layer, requests } = setup();
  const invite = request('INVITE');
  layer.receive(parseMessage(serializeMessage(invite)), peer);
  const cancel = request('CANCEL', invite.topVia().branch);
  t.ok(layer.findInviteFor(cancel), 'CANCEL finds the INVITE transaction');
  layer.receive(parseMessage(serializeMessage(cancel)), peer);
  t.equal(requests.length, 2, 'CANCEL is its own transaction');

  const old = request('OPTIONS');
  old.set('Via', 'SIP/2.0/UDP 127.0.0.1:5070');
  layer.receive(parseMessage(serializeMessage(old)), peer);
  layer.receive(parseMessage(serializeMessage(old)), peer);
  t.equal(requests.length, 3, 'retransmitted 2543 request matched and absorbed');
});

t.test('stray response is counted', async (t) => {
  const { layer } = setup();
  layer.receive(parseMessage(serializeMessage(createResponse(request('OPTIONS'), 200))), peer);
  t.equal(layer.counters.stray, 1);
});

t.test('client transactions sharing a branch (an INVITE and its CANCEL) are matched by CSeq method too (§17.1.3)', async (t) => {
  const { layer } = setup();
  const branch = newBranch();
  const invite = request('INVITE', branch);
  const cancel = request('CANCEL', branch);
  const got: string[] = [];
  layer.sendRequest(invite, peer, { onResponse: (r) => got.push(`INVITE ${r.status}`), onTimeout: () => t.fail('no timeout') });
  layer.sendRequest(cancel, peer, { onResponse: (r) => got.push(`CANCEL ${r.status}`), onTimeout: () => t.fail('no timeout') });
  t.equal(layer.clientCount, 2);
  layer.receive(parseMessage(serializeMessage(createResponse(invite, 180, undefined, 'b1'))), peer);
  layer.receive(parseMessage(serializeMessage(createResponse(cancel, 200))), peer);
  t.equal(layer.clientCount, 1, 'the completed CANCEL is let go, the INVITE stays');
  layer.receive(parseMessage(serializeMessage(createResponse(request('BYE', branch), 200))), peer);
  t.equal(layer.counters.stray, 1, 'the same branch with another method matches neither');
  layer.receive(parseMessage(serializeMessage(createResponse(invite, 487, undefined, 'b1'))), peer);
  t.same(got, ['INVITE 180', 'CANCEL 200', 'INVITE 487']);
  layer.receive(parseMessage(serializeMessage(createResponse(cancel, 200))), peer);
  t.equal(layer.counters.retransmissionsReceived, 1, "the CANCEL's retransmitted 200 is absorbed (Timer K)");
  layer.clear();
  t.equal(layer.clientCount, 0);
});

t.test('clear() at the end of a run ends any number of pending client transactions (more than a call takes as arguments)', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const layer = new TransactionLayer({ wheel, send: () => {}, onRequest: () => {} });
  const user = { onResponse: () => {}, onTimeout: () => {} };
  const n = 150_000; // a target that answers nothing, 5,000 requests/s for 30 s
  for (let i = 0; i < n; i++) layer.sendRequest(request('OPTIONS', `z9hG4bK-pending-${i}`), tcpPeer, user);
  t.equal(layer.clientCount, n);
  layer.clear();
  t.equal(layer.clientCount, 0, 'every one ended');
});
