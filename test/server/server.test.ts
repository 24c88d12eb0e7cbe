// The embedded server over real UDP and TCP sockets: registrar with digest,
// OPTIONS, unknown methods, calls to the built-in users, CANCEL, presence,
// and bad input that is counted while the server keeps serving.

import t from 'tap';
import net from 'node:net';
import { buildAuthorization, pickChallenge } from '../../engine/auth/index.js';
import { createResponse, serializeMessage, type SipMessage } from '../../engine/codec/index.js';
import { startServer, type SipServer } from '../../engine/server/index.js';
import { TestClient } from '../support/udp-client.js';

async function setup(t: { teardown(fn: () => unknown): void }): Promise<{ server: SipServer; client: TestClient; uri: string }> {
  const server = await startServer({ host: '127.0.0.1', port: 0 });
  const client = await new TestClient(server.endpoints[0]!.port).start();
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  return { server, client, uri: `sip:127.0.0.1:${server.endpoints[0]!.port}` };
}

const byCseq = (req: SipMessage) => (m: SipMessage) => !m.isRequest && m.status >= 200 && m.callId() === req.callId() && m.cseq().seq === req.cseq().seq && m.cseq().method === req.method;

async function register(client: TestClient, uri: string, user: string, password: string, expires = 3600): Promise<SipMessage> {
  const callId = `reg-${user}-${Date.now()}@test`;
  const first = client.request('REGISTER', uri, { user, callId, cseq: 1, headers: [['Expires', String(expires)]] });
  client.send(first);
  const challenge = await client.wait(byCseq(first));
  if (challenge.status !== 401) return challenge;
  const ch = pickChallenge(challenge.getAll('WWW-Authenticate'))!;
  const second = client.request('REGISTER', uri, { user, callId, cseq: 2, fromTag: first.from().tag, headers: [['Expires', String(expires)]] });
  second.add('Authorization', buildAuthorization(ch, { method: 'REGISTER', uri }, { username: user, password }, { nc: 0 }));
  client.send(second);
  return client.wait(byCseq(second));
}

t.test('REGISTER: challenge, 200 with the binding, 403 on a wrong password, unregister with Contact: *', async (t) => {
  const { server, client, uri } = await setup(t);
  const ok = await register(client, uri, 'user7', 'secret7');
  t.equal(ok.status, 200);
  t.match(ok.get('Contact'), /<sip:user7@127\.0\.0\.1:\d+>;expires=3600/);
  t.same(server.registeredAors(), ['user7@127.0.0.1']);
  const bad = await register(client, uri, 'user8', 'wrong');
  t.equal(bad.status, 403);
  const star = client.request('REGISTER', uri, { user: 'user7', headers: [['Expires', '0']] });
  star.set('Contact', '*');
  client.send(star);
  const ch = await client.wait(byCseq(star));
  t.equal(ch.status, 401, 'unregister is authenticated too');
  const again = client.request('REGISTER', uri, { user: 'user7', callId: star.callId(), cseq: 2, headers: [['Expires', '0']] });
  again.set('Contact', '*');
  again.add('Authorization', buildAuthorization(pickChallenge(ch.getAll('WWW-Authenticate'))!, { method: 'REGISTER', uri }, { username: 'user7', password: 'secret7' }, { nc: 0 }));
  client.send(again);
  t.equal((await client.wait(byCseq(again))).status, 200);
  t.same(server.registeredAors(), [], 'binding removed');
});

t.test('OPTIONS 200 with Allow; unknown method 405 with Allow', async (t) => {
  const { client, uri } = await setup(t);
  const opt = client.request('OPTIONS', uri);
  client.send(opt);
  const res = await client.wait(byCseq(opt));
  t.equal(res.status, 200);
  t.match(res.get('Allow'), /INVITE/);
  const odd = client.request('FOOBAR', uri);
  client.send(odd);
  const r405 = await client.wait(byCseq(odd));
  t.equal(r405.status, 405);
  t.ok(r405.getAll('Allow').includes('SUBSCRIBE'), 'Allow lists what we support');
});

t.test('INVITE to service: 100, 180, 200 with SDP; ACK; BYE 200', async (t) => {
  const { server, client } = await setup(t);
  const port = server.endpoints[0]!.port;
  const invite = client.request('INVITE', `sip:service@127.0.0.1:${port}`, { body: 'v=0\r\n', contentType: 'application/sdp' });
  client.send(invite);
  const ok = await client.wait(byCseq(invite));
  t.equal(ok.status, 200);
  t.equal(ok.get('Content-Type'), 'application/sdp');
  t.ok(ok.to().tag, 'To tag');
  const ack = client.request('ACK', `sip:service@127.0.0.1:${port}`, { callId: invite.callId(), fromTag: invite.from().tag, toTag: ok.to().tag });
  client.send(ack);
  const bye = client.request('BYE', `sip:service@127.0.0.1:${port}`, { callId: invite.callId(), fromTag: invite.from().tag, toTag: ok.to().tag, cseq: 2 });
  client.send(bye);
  t.equal((await client.wait(byCseq(bye))).status, 200);
  t.equal(server.stats().activeCalls, 0);
  const unknown = client.request('INVITE', `sip:nobody@127.0.0.1:${port}`);
  client.send(unknown);
  t.equal((await client.wait(byCseq(unknown))).status, 404);
});

t.test('CANCEL of a ringing call: 200 for the CANCEL, 487 for the INVITE', async (t) => {
  const { server, client } = await setup(t);
  const port = server.endpoints[0]!.port;
  const invite = client.request('INVITE', `sip:ringing@127.0.0.1:${port}`);
  client.send(invite);
  await client.wait((m) => m.status === 180 && m.callId() === invite.callId());
  const cancel = client.request('CANCEL', invite.uri, { callId: invite.callId(), fromTag: invite.from().tag });
  cancel.set('Via', invite.get('Via')!);
  client.send(cancel);
  t.equal((await client.wait(byCseq(cancel))).status, 200);
  t.equal((await client.wait(byCseq(invite))).status, 487);
});

t.test('a merged INVITE gets 482; a CANCEL of it (its own branch) leaves the ringing call alone; CANCEL of the first gets 487', async (t) => {
  const { server, client } = await setup(t);
  const port = server.endpoints[0]!.port;
  const first = client.request('INVITE', `sip:ringing@127.0.0.1:${port}`);
  client.send(first);
  await client.wait((m) => m.status === 180 && m.callId() === first.callId());
  // The same From tag, Call-ID and CSeq on another branch (§8.2.2.2): a copy that came by another path.
  const merged = client.request('INVITE', first.uri, { callId: first.callId(), fromTag: first.from().tag, cseq: first.cseq().seq });
  client.send(merged);
  t.equal((await client.wait((m) => m.status >= 200 && m.topBranch() === merged.topBranch())).status, 482);
  const cancelMerged = client.request('CANCEL', first.uri, { callId: first.callId(), fromTag: first.from().tag, cseq: first.cseq().seq });
  cancelMerged.set('Via', merged.get('Via')!);
  client.send(cancelMerged);
  t.equal((await client.wait((m) => m.cseq().method === 'CANCEL' && m.topBranch() === merged.topBranch())).status, 200, 'its transaction exists: 200, and no effect (§9.2)');
  t.equal(server.stats().activeCalls, 1, 'the first call still rings');
  const cancel = client.request('CANCEL', first.uri, { callId: first.callId(), fromTag: first.from().tag, cseq: first.cseq().seq });
  cancel.set('Via', first.get('Via')!);
  client.send(cancel);
  t.equal((await client.wait((m) => m.status >= 200 && m.cseq().method === 'INVITE' && m.topBranch() === first.topBranch())).status, 487);
});

t.test('presence: SUBSCRIBE gets 200 and a NOTIFY; PUBLISH sends a new NOTIFY with the open status; 489 for other events', async (t) => {
  const { server, client, uri } = await setup(t);
  const port = server.endpoints[0]!.port;
  const authed = async (req: SipMessage) => {
    client.send(req);
    const ch = await client.wait(byCseq(req));
    const again = client.request(req.method, req.uri, { user: /sip:(\w+)@/.exec(req.get('From')!)![1], callId: req.callId(), cseq: req.cseq().seq + 1, fromTag: req.from().tag, headers: req.headers.filter((h) => ['Event', 'Expires', 'Accept'].includes(h.name)).map((h) => [h.name, h.value]), body: req.body.toString(), contentType: req.get('Content-Type') });
    const user = /sip:(\w+)@/.exec(req.get('From')!)![1]!;
    again.add('Authorization', buildAuthorization(pickChallenge(ch.getAll('WWW-Authenticate'))!, { method: req.method, uri: req.uri }, { username: user, password: user.replace('user', 'secret') }, { nc: 0 }));
    client.send(again);
    return client.wait(byCseq(again));
  };
  const sub = client.request('SUBSCRIBE', `sip:user2@127.0.0.1:${port}`, { user: 'user1', headers: [['Event', 'presence'], ['Expires', '600']] });
  const ok = await authed(sub);
  t.equal(ok.status, 200);
  const n1 = await client.wait((m) => m.isRequest && m.method === 'NOTIFY');
  t.match(n1.get('Subscription-State'), /^active;expires=/);
  t.equal(n1.get('Event'), 'presence');
  t.match(n1.body.toString(), /<basic>closed<\/basic>/);
  client.send(createResponse(n1, 200));
  const pub = client.request('PUBLISH', `sip:user2@127.0.0.1:${port}`, { user: 'user2', headers: [['Event', 'presence'], ['Expires', '60']], body: '<presence><tuple id="a"><status><basic>open</basic></status></tuple></presence>', contentType: 'application/pidf+xml' });
  const pubOk = await authed(pub);
  t.equal(pubOk.status, 200);
  t.ok(pubOk.get('SIP-ETag'), 'SIP-ETag');
  const n2 = await client.wait((m) => m.isRequest && m.method === 'NOTIFY');
  t.match(n2.body.toString(), /<basic>open<\/basic>/, 'watcher told of the change');
  t.ok(n2.cseq().seq > n1.cseq().seq, 'CSeq grows within the subscription');
  client.send(createResponse(n2, 200));
  const bad = client.request('SUBSCRIBE', uri, { headers: [['Event', 'dialog']] });
  client.send(bad);
  const r489 = await client.wait(byCseq(bad));
  t.equal(r489.status, 489);
  t.equal(r489.get('Allow-Events'), 'presence');
  t.equal(server.stats().subscriptions, 1);
});

t.test('bad input is counted and the server keeps serving', async (t) => {
  const { server, client, uri } = await setup(t);
  client.sendRaw('this is not SIP at all\r\n\r\n');
  client.sendRaw('INVITE sip:service@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKx\r\nCall-');
  const clerr = client.request('OPTIONS', uri);
  clerr.body = Buffer.from('abc');
  client.sendRaw(serializeMessage(clerr).toString().replace('Content-Length: 3', 'Content-Length: 9999'));
  const r400 = await client.wait(byCseq(clerr));
  t.equal(r400.status, 400, 'Content-Length larger than the datagram: 400');
  t.match(r400.reason, /Content-Length/);
  // 10 MB over TCP without a header end
  const tcpPort = server.endpoints.find((e) => e.protocol === 'tcp')!.port;
  const sock = net.connect(tcpPort, '127.0.0.1');
  await new Promise<void>((r) => sock.on('connect', () => r()));
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  let closed = false;
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  for (let i = 0; i < 10 && !closed; i++) await new Promise<void>((r) => sock.write(chunk, () => r()));
  await new Promise((r) => setTimeout(r, 200));
  t.ok(closed || sock.destroyed, 'the server dropped the connection');
  sock.destroy();
  const stats = server.stats();
  t.ok(stats.parseErrors.SIP_PARSE_START_LINE! >= 1, 'non-SIP datagram counted');
  t.ok(stats.parseErrors.SIP_PARSE_TRUNCATED! >= 1, 'truncated message counted');
  t.equal(stats.parseErrors.SIP_PARSE_CONTENT_LENGTH, 1);
  t.equal(stats.transportErrors.SIP_FRAME_HEADER_TOO_LARGE, 1, '10 MB without header end counted');
  const opt = client.request('OPTIONS', uri);
  client.send(opt);
  t.equal((await client.wait(byCseq(opt))).status, 200, 'still serving');
});
