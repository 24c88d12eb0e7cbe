// `sipstorm serve` proxying an INVITE to a UA registered over TCP whose
// connection dies before it answers: the caller gets 503 at once (RFC 3261
// §16.9: a transport error is as if the next hop answered 503), not a 408
// after Timer B.

import t from 'tap';
import net from 'node:net';
import dgram from 'node:dgram';
import { buildAuthorization, pickChallenge } from '../../engine/auth/index.js';
import { createRequest, parseMessage, serializeMessage, StreamFramer, type SipMessage } from '../../engine/codec/index.js';
import { startServer } from '../../engine/server/index.js';

t.test('a callee whose TCP connection closes under a proxied INVITE: 503 at once', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'] });
  t.teardown(() => server.close());
  const port = server.endpoints[0]!.port;

  // The callee registers over TCP, and closes its connection when the INVITE comes.
  const callee = net.connect(port, '127.0.0.1');
  t.teardown(() => callee.destroy());
  await new Promise<void>((r) => callee.once('connect', () => r()));
  const lp = callee.localPort!;
  const framer = new StreamFramer();
  const got: SipMessage[] = [];
  let wake: (() => void) | undefined;
  callee.on('data', (d) => {
    for (const m of framer.push(d)) got.push(parseMessage(m, { stream: true }));
    wake?.();
  });
  const next = async (pred: (m: SipMessage) => boolean) => {
    for (;;) {
      const i = got.findIndex(pred);
      if (i >= 0) return got.splice(i, 1)[0]!;
      await new Promise<void>((r) => (wake = r));
    }
  };
  const register = (cseq: number) =>
    createRequest({
      method: 'REGISTER', uri: `sip:127.0.0.1:${port}`, from: '<sip:user9@127.0.0.1>;tag=r9', to: '<sip:user9@127.0.0.1>', callId: 'reg-9',
      cseq, via: `SIP/2.0/TCP 127.0.0.1:${lp};branch=z9hG4bKreg9${cseq};rport`, contact: `<sip:user9@127.0.0.1:${lp};transport=tcp>`,
    });
  callee.write(serializeMessage(register(1)));
  const challenge = await next((m) => m.status === 401);
  const second = register(2);
  second.add('Authorization', buildAuthorization(pickChallenge(challenge.getAll('WWW-Authenticate'))!, { method: 'REGISTER', uri: second.uri }, { username: 'user9', password: 'secret9' }, { nc: 0 }));
  callee.write(serializeMessage(second));
  await next((m) => m.status === 200);

  // The caller, over UDP.
  const caller = dgram.createSocket('udp4');
  await new Promise<void>((r) => caller.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => caller.close());
  const finals: number[] = [];
  let finalCame: () => void;
  const final = new Promise<void>((r) => (finalCame = r));
  caller.on('message', (d) => {
    const m = parseMessage(d);
    if (m.status >= 200) {
      finals.push(m.status);
      finalCame();
    }
  });
  const invite = createRequest({
    method: 'INVITE', uri: `sip:user9@127.0.0.1:${port}`, from: '<sip:caller@127.0.0.1>;tag=c9', to: '<sip:user9@127.0.0.1>', callId: 'call-9',
    cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:${caller.address().port};branch=z9hG4bKinv9;rport`, contact: `<sip:caller@127.0.0.1:${caller.address().port}>`,
  });
  caller.send(serializeMessage(invite), port, '127.0.0.1');
  await next((m) => m.isRequest && m.method === 'INVITE');
  callee.destroy();
  await final;
  t.same(finals, [503], 'the caller got 503 (not a 408 after 32 s)');
});
