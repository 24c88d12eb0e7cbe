// A call through `sipstorm serve` that changes transport: the caller on TCP,
// the callee registered over UDP. The proxy record-routes twice (RFC 5658),
// each Record-Route naming its side's transport, so that each UA's route set
// starts at an address it reaches over its own transport; the BYE the caller
// sends over TCP reaches the callee over UDP, and its 200 comes back.

import t from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { buildAuthorization, pickChallenge } from '../../engine/auth/index.js';
import { createRequest, createResponse, parseMessage, serializeMessage, StreamFramer, type SipMessage } from '../../engine/codec/index.js';
import { startServer } from '../../engine/server/index.js';

/** Messages as they arrive, and a way to wait for the next one that matches. */
function inbox() {
  const got: SipMessage[] = [];
  let wake: (() => void) | undefined;
  return {
    push(m: SipMessage) {
      got.push(m);
      wake?.();
    },
    async next(pred: (m: SipMessage) => boolean): Promise<SipMessage> {
      for (;;) {
        const i = got.findIndex(pred);
        if (i >= 0) return got.splice(i, 1)[0]!;
        await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

t.test('caller on TCP, callee on UDP: two Record-Routes, ACK and BYE cross transports', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'] });
  t.teardown(() => server.close());
  const port = server.endpoints[0]!.port;

  // The callee: a UDP socket that registers as user7 (digest: secret7).
  const callee = dgram.createSocket('udp4');
  await new Promise<void>((r) => callee.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => callee.close());
  const calleePort = callee.address().port;
  const atCallee = inbox();
  callee.on('message', (d) => atCallee.push(parseMessage(d)));
  const toServer = (m: SipMessage) => callee.send(serializeMessage(m), port, '127.0.0.1');
  const register = (cseq: number) =>
    createRequest({
      method: 'REGISTER', uri: `sip:127.0.0.1:${port}`, from: '<sip:user7@127.0.0.1>;tag=r7', to: '<sip:user7@127.0.0.1>', callId: 'reg-7',
      cseq, via: `SIP/2.0/UDP 127.0.0.1:${calleePort};branch=z9hG4bKreg${cseq};rport`, contact: `<sip:user7@127.0.0.1:${calleePort}>`,
    });
  toServer(register(1));
  const challenge = await atCallee.next((m) => m.status === 401);
  const second = register(2);
  second.add('Authorization', buildAuthorization(pickChallenge(challenge.getAll('WWW-Authenticate'))!, { method: 'REGISTER', uri: second.uri }, { username: 'user7', password: 'secret7' }, { nc: 0 }));
  toServer(second);
  await atCallee.next((m) => m.status === 200);

  // The caller: one TCP connection.
  const caller = net.connect(port, '127.0.0.1');
  t.teardown(() => caller.destroy());
  await new Promise<void>((r) => caller.once('connect', () => r()));
  const callerPort = caller.localPort!;
  const atCaller = inbox();
  const framer = new StreamFramer();
  caller.on('data', (d) => {
    for (const m of framer.push(d)) atCaller.push(parseMessage(m, { stream: true }));
  });
  const invite = createRequest({
    method: 'INVITE', uri: `sip:user7@127.0.0.1:${port}`, from: '<sip:caller@127.0.0.1>;tag=c1', to: '<sip:user7@127.0.0.1>', callId: 'call-x',
    cseq: 1, via: `SIP/2.0/TCP 127.0.0.1:${callerPort};branch=z9hG4bKinv1;rport`, contact: `<sip:caller@127.0.0.1:${callerPort};transport=tcp>`,
  });
  caller.write(serializeMessage(invite));

  const inv = await atCallee.next((m) => m.isRequest && m.method === 'INVITE');
  t.same(inv.getAll('Record-Route'), [`<sip:127.0.0.1:${port};lr>`, `<sip:127.0.0.1:${port};lr;transport=tcp>`], 'two Record-Routes: the UDP side on top (toward the callee), then the TCP side');
  const ok = createResponse(inv, 200, undefined, 'callee');
  for (const rr of inv.getAll('Record-Route')) ok.add('Record-Route', rr);
  ok.add('Contact', `<sip:user7@127.0.0.1:${calleePort}>`);
  callee.send(serializeMessage(ok), port, '127.0.0.1');

  const answer = await atCaller.next((m) => m.status === 200 && m.cseq().method === 'INVITE');
  // The caller's route set is the Record-Routes reversed: it starts at the TCP side, which it reaches.
  const routeSet = answer.getAll('Record-Route').reverse();
  t.match(routeSet[0], /transport=tcp/, "the caller's first route is the proxy's TCP side");
  const inDialog = (method: string, cseq: number, branch: string) => {
    const req = createRequest({
      method, uri: `sip:user7@127.0.0.1:${calleePort}`, from: '<sip:caller@127.0.0.1>;tag=c1', to: `<sip:user7@127.0.0.1>;tag=${answer.to().tag}`, callId: 'call-x',
      cseq, via: `SIP/2.0/TCP 127.0.0.1:${callerPort};branch=${branch};rport`,
    });
    for (const r of routeSet) req.add('Route', r);
    return req;
  };
  caller.write(serializeMessage(inDialog('ACK', 1, 'z9hG4bKack1')));
  const ack = await atCallee.next((m) => m.isRequest && m.method === 'ACK');
  t.same(ack.getAll('Route'), [], 'the ACK reached the callee over UDP with both of the proxy\'s routes removed');
  caller.write(serializeMessage(inDialog('BYE', 2, 'z9hG4bKbye2')));
  const bye = await atCallee.next((m) => m.isRequest && m.method === 'BYE');
  callee.send(serializeMessage(createResponse(bye, 200)), port, '127.0.0.1');
  const byeOk = await atCaller.next((m) => m.cseq().method === 'BYE');
  t.equal(byeOk.status, 200, 'the BYE crossed from TCP to UDP and its 200 came back');
});
