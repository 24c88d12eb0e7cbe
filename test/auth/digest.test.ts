// Digest authentication against the RFCs' worked examples, and client/server
// round trips for every algorithm and qop.

import t from 'tap';
import {
  buildAuthorization, buildChallenge, computeResponse, parseAuthorization, parseChallenge, pickChallenge,
  verifyAuthorization, NonceStore, type DigestAlgorithm,
} from '../../engine/auth/index.js';

t.test('RFC 7616 §3.9.1 worked example (MD5 and SHA-256)', async (t) => {
  const base = {
    username: 'Mufasa', password: 'Circle of Life', realm: 'http-auth@example.org', method: 'GET',
    uri: '/dir/index.html', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: '00000001', qop: 'auth',
  };
  t.equal(computeResponse({ ...base, algorithm: 'MD5' }), '8ca523f5e9506fed4657c9700eebdbec');
  t.equal(computeResponse({ ...base, algorithm: 'SHA-256' }), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
});

t.test('RFC 2617 §3.5 example', async (t) => {
  t.equal(
    computeResponse({
      algorithm: 'MD5', username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com', method: 'GET',
      uri: '/dir/index.html', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', cnonce: '0a4f113b', nc: '00000001', qop: 'auth',
    }),
    '6629fae49393a05397450978507c4ef1',
  );
});

t.test('challenge parsing', async (t) => {
  const ch = parseChallenge('Digest realm="atlanta.com", domain="sip:ss1.carrier.com", qop="auth,auth-int", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=TRUE, algorithm=SHA-256');
  t.equal(ch.realm, 'atlanta.com');
  t.same(ch.qop, ['auth', 'auth-int']);
  t.equal(ch.stale, true);
  t.equal(ch.algorithm, 'SHA-256');
  t.equal(ch.opaque, '');
  const best = pickChallenge(['Digest realm="a", nonce="1", algorithm=MD5', 'Digest realm="a", nonce="2", algorithm=SHA-256']);
  t.equal(best?.nonce, '2', 'SHA-256 preferred over MD5');
  t.throws(() => parseChallenge('Basic realm="x"'), { code: 'DIGEST_SCHEME' });
  t.throws(() => parseChallenge('Digest realm="x'), { code: 'DIGEST_PARSE' });
  t.equal(parseChallenge('Digest realm="a \\"q\\"", nonce="n"').realm, 'a "q"', 'escaped quotes');
});

const algorithms: DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256'];
for (const algorithm of algorithms) {
  for (const qop of ['auth', 'auth-int', '']) {
    t.test(`round trip ${algorithm} qop=${qop || 'none'}`, async (t) => {
      const store = new NonceStore();
      const nonce = store.issue();
      const ch = parseChallenge(buildChallenge({ realm: 'sipstorm', nonce, algorithm, qop, opaque: 'op1' }));
      const body = Buffer.from('v=0\r\n');
      const state = { nc: 0 };
      const value = buildAuthorization(ch, { method: 'REGISTER', uri: 'sip:example.com', body }, { username: 'user1', password: 'secret1' }, state);
      const cred = parseAuthorization(value);
      t.equal(cred.username, 'user1');
      t.equal(cred.opaque, 'op1');
      t.equal(cred.qop, qop || undefined);
      t.ok(verifyAuthorization(cred, 'REGISTER', 'secret1', body), 'right password verifies');
      t.notOk(verifyAuthorization(cred, 'REGISTER', 'secret2', body), 'wrong password fails');
      t.notOk(verifyAuthorization(cred, 'INVITE', 'secret1', body), 'another method fails');
      if (qop === 'auth-int') t.notOk(verifyAuthorization(cred, 'REGISTER', 'secret1', Buffer.from('x')), 'auth-int covers the body');
      t.equal(store.check(cred.nonce, cred.nc), 'ok');
      t.notOk(value.includes('secret1'), 'the password is not in the header');
    });
  }
}

t.test('nonce store: stale, forged, replayed', async (t) => {
  let now = 1_000_000;
  const store = new NonceStore(60_000, 10, () => now);
  const nonce = store.issue();
  t.equal(store.check(nonce, '00000001'), 'ok');
  t.equal(store.check(nonce, '00000001'), 'replay', 'same nc twice is a replay');
  t.equal(store.check(nonce, '00000002'), 'ok');
  t.equal(store.check(nonce.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), 'invalid', 'forged nonce');
  t.equal(store.check('garbage'), 'invalid');
  now += 61_000;
  t.equal(store.check(nonce, '00000003'), 'stale', 'expired nonce is stale (client retries with stale=true)');
});
