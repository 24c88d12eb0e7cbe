// The digest challenges of the embedded server: MD5 alone by default (what
// every UA answers), more with --digest-algorithms in the order given (RFC 8760
// §2.4: preferred first), and credentials of an algorithm it did not offer
// challenged again. Bad --digest-algorithms values are one line, exit 2.

import t from 'tap';
import { buildAuthorization, parseChallenge } from '../../engine/auth/index.js';
import type { SipMessage } from '../../engine/codec/index.js';
import { startServer } from '../../engine/server/index.js';
import { runCli } from '../support/cli.js';
import { TestClient } from '../support/udp-client.js';

async function challenge(t: { teardown(fn: () => unknown): void }, algorithms?: ('MD5' | 'SHA-256')[]) {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'], algorithms });
  const client = await new TestClient(server.endpoints[0]!.port).start();
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  const uri = `sip:127.0.0.1:${server.endpoints[0]!.port}`;
  const req = client.request('REGISTER', uri, { user: 'user3' });
  client.send(req);
  const res = await client.wait((m: SipMessage) => !m.isRequest && m.callId() === req.callId());
  return { server, client, uri, req, res };
}

t.test('by default one challenge, MD5', async (t) => {
  const { res } = await challenge(t);
  t.equal(res.status, 401);
  const offered = res.getAll('WWW-Authenticate').map((v) => parseChallenge(v).algorithm);
  t.same(offered, ['MD5'], 'a single WWW-Authenticate, algorithm=MD5');
});

t.test('--digest-algorithms sha-256,md5: two challenges, SHA-256 first', async (t) => {
  const { res } = await challenge(t, ['SHA-256', 'MD5']);
  t.same(res.getAll('WWW-Authenticate').map((v) => parseChallenge(v).algorithm), ['SHA-256', 'MD5']);
});

t.test('credentials of an algorithm the server did not offer are challenged again', async (t) => {
  const { client, uri, req, res } = await challenge(t);
  const offered = parseChallenge(res.get('WWW-Authenticate')!);
  const again = client.request('REGISTER', uri, { user: 'user3', callId: req.callId(), cseq: 2, fromTag: req.from().tag });
  again.add('Authorization', buildAuthorization({ ...offered, algorithm: 'SHA-256' }, { method: 'REGISTER', uri }, { username: 'user3', password: 'secret3' }, { nc: 0 }));
  client.send(again);
  const answer = await client.wait((m: SipMessage) => !m.isRequest && m.cseq().seq === 2);
  t.equal(answer.status, 401, 'SHA-256 credentials against an MD5-only challenge: 401 again');
  const md5 = client.request('REGISTER', uri, { user: 'user3', callId: req.callId(), cseq: 3, fromTag: req.from().tag });
  md5.add('Authorization', buildAuthorization(parseChallenge(answer.get('WWW-Authenticate')!), { method: 'REGISTER', uri }, { username: 'user3', password: 'secret3' }, { nc: 0 }));
  client.send(md5);
  t.equal((await client.wait((m: SipMessage) => !m.isRequest && m.cseq().seq === 3)).status, 200, 'the MD5 answer is taken');
});

t.test('sipstorm serve --digest-algorithms: a wrong value is one line and exit 2', async (t) => {
  for (const [value, message] of [
    ['sha1', /--digest-algorithms: unknown algorithm 'sha1' \(md5, md5-sess, sha-256/],
    ['md5,MD5', /--digest-algorithms: 'MD5' is named twice/],
    [',', /--digest-algorithms needs at least one algorithm/],
  ] as const) {
    const r = await runCli(['serve', '--port', '0', '--digest-algorithms', value], { outDir: false, timeoutMs: 20_000 });
    t.equal(r.status, 2, `${value}: exit 2`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});
