// The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4) on a manual clock:
// T1 doubling to T2 through the INVITE server transaction's Accepted state,
// given up at 64*T1 with a timeout counted (the scenario UA) or resent until
// stopped (the reference server, whose call limit ends it).

import t from 'tap';
import { createRequest, createResponse, newTag, parseMessage, serializeMessage, type SipMessage } from '../../engine/codec/index.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';
import { Retransmit2xx, TransactionLayer, type ServerTransaction } from '../../engine/transaction/index.js';
import type { Endpoint } from '../../engine/transport/index.js';

const peer: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 5060 };

/** An INVITE received and answered 200 (the transaction now Accepted), the sends recorded with their times. */
function answeredInvite() {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const sent: { at: number; msg: SipMessage }[] = [];
  let tx: ServerTransaction | undefined;
  const layer = new TransactionLayer({
    wheel,
    send: (data) => sent.push({ at: wheel.now(), msg: parseMessage(data) }),
    onRequest: (_req, t) => (tx = t),
  });
  const invite = createRequest({
    method: 'INVITE', uri: 'sip:bob@example.com', from: '<sip:alice@example.com>;tag=a1', to: '<sip:bob@example.com>',
    callId: 'c-2xx', cseq: 1, via: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-2xx',
  });
  layer.receive(parseMessage(serializeMessage(invite)), peer);
  if (!tx) throw new Error('no server transaction');
  const ok = createResponse(tx.request, 200, newTag());
  tx.respond(ok);
  sent.length = 0;
  return { wheel, sent, layer, tx, ok };
}

t.test('the scenario UA: T1 doubling to T2, given up at 64*T1 with one timeout counted', async (t) => {
  const { wheel, sent, layer, tx, ok } = answeredInvite();
  new Retransmit2xx(wheel, layer.timers, layer.counters, tx, ok, true);
  wheel.advance(40_000);
  t.same(sent.map((s) => s.at), [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  t.ok(sent.every((s) => s.msg.status === 200), 'every copy is the 2xx');
  t.equal(layer.counters.retransmissionsSent, sent.length, 'each copy counted');
  t.equal(layer.counters.timeouts, 1, 'the give-up counted once');
});

t.test('the reference server: resent until stopped, no timeout of its own', async (t) => {
  const { wheel, sent, layer, tx, ok } = answeredInvite();
  const r = new Retransmit2xx(wheel, layer.timers, layer.counters, tx, ok, false);
  wheel.advance(20_000);
  t.same(sent.map((s) => s.at), [500, 1500, 3500, 7500, 11500, 15500, 19500]);
  r.stop();
  wheel.advance(20_000);
  t.equal(sent.length, 7, 'nothing after stop');
  t.equal(layer.counters.retransmissionsSent, 7);
  t.equal(layer.counters.timeouts, 0);
});

t.test('stopped by the ACK: nothing more is sent or counted', async (t) => {
  const { wheel, sent, layer, tx, ok } = answeredInvite();
  const r = new Retransmit2xx(wheel, layer.timers, layer.counters, tx, ok, true);
  wheel.advance(2_000);
  r.stop();
  wheel.advance(60_000);
  t.same(sent.map((s) => s.at), [500, 1500]);
  t.equal(layer.counters.retransmissionsSent, 2);
  t.equal(layer.counters.timeouts, 0);
});
