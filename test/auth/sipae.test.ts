// [MS-SIPAE] logins between sipstorm's client and server sides on real SIP
// messages: NTLM (two rounds, connectionless), and Kerberos with tickets from a
// real MIT KDC started by the test; then signed requests and responses, a
// tampered signature, a replayed cnum, a wrong password, an unreachable KDC.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { createRequest, createResponse, type SipMessage } from '../../engine/codec/index.js';
import { SipaeClient, type SipaeLogin } from '../../engine/auth/sipae/client.js';
import { SipaeServer, type SipaeDecision } from '../../engine/auth/sipae/server.js';
import { KerberosAcceptor } from '../../engine/auth/kerberos/acceptor.js';
import { keysFor, parseKeytab } from '../../engine/auth/kerberos/keytab.js';
import { parseKdcAddress } from '../../engine/auth/kerberos/kdc-client.js';
import { kdcAvailable, startKdc } from '../support/kdc.js';

const REALM = 'SIP Communications Service';
let cseq = 0;
const register = (user: string, expires = '3600'): SipMessage => createRequest({
  method: 'REGISTER', uri: 'sip:sipstorm.test', via: `SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK${++cseq}`,
  from: `<sip:${user}@sipstorm.test>;tag=f${cseq}`, to: `<sip:${user}@sipstorm.test>`, callId: `call-${user}`, cseq,
  headers: [['Expires', expires]],
});

/** One request through the server; returns the decision and, for ok, the signed 200. */
function serve(server: SipaeServer, req: SipMessage): { d: SipaeDecision; res?: SipMessage } {
  const d = server.check(req, req.getAll('Authorization'));
  if (d.kind !== 'ok') return { d };
  const res = createResponse(req, 200, 'OK', 'srvtag');
  res.set('Expires', '3600');
  res.add('Authentication-Info', server.signResponse(d.sa, res));
  return { d, res };
}

/** The full login: requests until the server says ok; every answer goes through the client. */
async function login(client: SipaeClient, server: SipaeServer, user: string): Promise<SipMessage> {
  let req = register(user);
  for (let round = 0; round < 4; round++) {
    const { d, res } = serve(server, req);
    if (d.kind === 'forbidden') throw new Error(d.reason);
    if (d.kind === 'ok') {
      const why = client.checkResponse(res!, res!.getAll('Authentication-Info'));
      if (why) throw new Error(why);
      return res!;
    }
    const next = register(user);
    next.set('Authorization', await client.answer(d.values));
    req = next;
  }
  throw new Error('no login after 4 rounds');
}

const login0 = (over: Partial<SipaeLogin>): SipaeLogin => ({ scheme: 'ntlm', user: 'alice', password: 'pw-alice', domain: 'SIPSTORM', workstation: 'UA1', now: Date.now, ...over });

t.test('NTLM: challenge, CHALLENGE, AUTHENTICATE, a signed 200, then signed requests', async (t) => {
  const server = new SipaeServer({ realm: REALM, now: Date.now, ntlm: { targetname: 'sipstorm.test', passwordOf: (u) => (u === 'alice' ? 'pw-alice' : undefined) } });
  const client = new SipaeClient(login0({}));
  await login(client, server, 'alice');
  t.ok(client.established);
  t.equal(server.counts.logins, 1);

  const refresh = register('alice');
  refresh.set('Authorization', client.signRequest(refresh)!);
  const { d, res } = serve(server, refresh);
  t.equal(d.kind, 'ok', 'a signed refresh is accepted');
  t.equal(client.checkResponse(res!, res!.getAll('Authentication-Info')), undefined, 'and its signed 200 verifies');

  t.equal(serve(server, refresh).d.kind, 'forbidden', 'the same cnum again is a replay');
  const tampered = register('alice');
  tampered.set('Authorization', client.signRequest(tampered)!);
  tampered.set('Expires', '0'); // changed after signing
  const bad = serve(server, tampered).d;
  t.equal(bad.kind, 'forbidden');
  t.match(bad.kind === 'forbidden' && bad.reason, /bad NTLM signature/);

  const forged = createResponse(refresh, 200, 'OK', 'srvtag');
  forged.set('Expires', '3600');
  forged.add('Authentication-Info', res!.get('Authentication-Info')!.replace(/rspauth="(.)/, (_m, c: string) => `rspauth="${c === '0' ? '1' : '0'}`));
  t.match(client.checkResponse(forged, forged.getAll('Authentication-Info')), /does not verify/, 'a forged server signature is refused');
});

t.test('NTLM: a wrong password is refused with a clear reason', async (t) => {
  const server = new SipaeServer({ realm: REALM, now: Date.now, ntlm: { targetname: 'sipstorm.test', passwordOf: () => 'right' } });
  const client = new SipaeClient(login0({ password: 'wrong' }));
  await t.rejects(login(client, server, 'alice'), /NTLM login failed: .*does not match/);
  t.equal(server.counts.refused, 1);
});

t.test('Kerberos against a real MIT KDC', { skip: !kdcAvailable() && process.env.CI !== 'true' && 'krb5-kdc / krb5-admin-server not installed' }, async (t) => {
  const kdc = await startKdc({ users: [['alice', 'pw-alice'], ['bob', 'pw-bob'], ['dave', 'pw-dave']], services: ['sip/127.0.0.1'], userKeytab: ['dave'] });
  t.teardown(() => kdc.stop());
  const keys = keysFor(parseKeytab(readFileSync(kdc.keytab)), 'sip/127.0.0.1');
  t.ok(keys.length >= 2, 'the keytab holds the service keys (aes256, aes128)');
  const server = new SipaeServer({ realm: REALM, now: Date.now, kerberos: { targetname: 'sip/127.0.0.1', acceptor: new KerberosAcceptor(keys) } });
  const kerberos = (user: string, password: string, over: Partial<SipaeLogin> = {}): SipaeClient => new SipaeClient(login0({
    scheme: 'kerberos', user, password, kdc: parseKdcAddress(kdc.address), kerberosRealm: kdc.realm, ...over,
  }));

  const alice = kerberos('alice', 'pw-alice');
  await login(alice, server, 'alice');
  t.ok(alice.established, 'REGISTER → 401 Kerberos → REGISTER with an AP-REQ → signed 200');
  const sub = register('alice');
  sub.set('Authorization', alice.signRequest(sub)!);
  const { d, res } = serve(server, sub);
  t.equal(d.kind === 'ok' && d.user, 'alice', 'a signed request of the association is accepted as alice');
  t.equal(alice.checkResponse(res!, res!.getAll('Authentication-Info')), undefined, 'the server\'s signature verifies');
  const tampered = register('alice');
  tampered.set('Authorization', alice.signRequest(tampered)!.replace(/response="(.)/, (_m, c: string) => `response="${c === 'a' ? 'b' : 'a'}`));
  t.equal(serve(server, tampered).d.kind, 'forbidden', 'a tampered signature is refused');

  const daveKeys = keysFor(parseKeytab(readFileSync(kdc.userKeytab!)), 'dave').map((e) => e.key);
  const dave = kerberos('dave', 'not-the-password', { kerberosKeys: daveKeys });
  await login(dave, server, 'dave');
  t.ok(dave.established, 'a login with the user\'s keys from a keytab instead of the password');

  await t.rejects(login(kerberos('bob', 'nope'), server, 'bob'), { code: 'KRB_BAD_PASSWORD' }, 'a wrong password: KRB_BAD_PASSWORD');
  await t.rejects(login(kerberos('carol', 'x'), server, 'carol'), { code: 'KRB_PRINCIPAL_UNKNOWN' });
  await t.rejects(login(kerberos('bob', 'pw-bob', { now: () => Date.now() - 3_600_000 }), server, 'bob'), { code: 'KRB_CLOCK_SKEW' }, 'a clock an hour off');

  const replayServer = new SipaeServer({ realm: REALM, now: Date.now, kerberos: { targetname: 'sip/127.0.0.1', acceptor: new KerberosAcceptor(keys) } });
  const bob = kerberos('bob', 'pw-bob');
  const first = replayServer.check(register('bob'), []);
  t.equal(first.kind, 'challenge');
  const auth = await bob.answer((first as { values: string[] }).values);
  const req1 = register('bob'); req1.set('Authorization', auth);
  t.equal(replayServer.check(req1, req1.getAll('Authorization')).kind, 'ok');
  const again = replayServer.check(req1, req1.getAll('Authorization'));
  t.match(again.kind === 'forbidden' && again.code, 'KRB_REPLAY', 'the same AP-REQ twice is a replay');
});

t.test('Kerberos: a KDC that does not answer is KRB_KDC_TIMEOUT', async (t) => {
  const dgram = await import('node:dgram');
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => silent.close());
  const client = new SipaeClient(login0({ scheme: 'kerberos', kdc: { host: '127.0.0.1', port: silent.address().port, transport: 'udp' }, kerberosRealm: 'X.TEST', kdcTimeoutMs: 1500 }));
  // The client's own timeout is what ends it (set short here); no wall-clock assertion.
  await t.rejects(Promise.resolve().then(() => client.answer(['Kerberos realm="R", targetname="sip/x", version=3'])), { code: 'KRB_KDC_TIMEOUT' });
});

t.test('bad input from a server: malformed gssapi-data is a clear error', async (t) => {
  const client = new SipaeClient(login0({}));
  t.throws(() => client.answer(['NTLM realm="R", targetname="t", opaque="1", gssapi-data="bm90IG50bG0=", version=3']), { code: 'NTLM_MALFORMED' });
  t.throws(() => client.answer(['Digest realm="R", nonce="x"']), { code: 'SIPAE_NOT_OFFERED' });
  const server = new SipaeServer({ realm: REALM, now: Date.now, ntlm: { targetname: 't', passwordOf: () => 'x' }, kerberos: { targetname: 'sip/t', acceptor: new KerberosAcceptor([]) } });
  const req = register('x');
  const k = server.check(req, [`Kerberos realm="${REALM}", targetname="sip/t", gssapi-data="AAAA", version=3`]);
  t.equal(k.kind, 'forbidden');
  t.match(k.kind === 'forbidden' && k.reason, /Kerberos login failed: GSS-API token/);
});
