// A connection that dies under a request fails it at once, with the
// transport error counted and named in the reason (RFC 3261 §17.1.4), rather
// than 32 s later as "no final response": a TCP server that closes in the
// middle of its response, a plain close with requests waiting, and a TLS
// server whose certificate changes to an untrusted one after the run started.

import t, { type Test } from 'tap';
import net from 'node:net';
import tls from 'node:tls';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResponse, parseMessage, serializeMessage } from '../../engine/codec/index.js';
import { runCli } from '../support/cli.js';
import { opensslAvailable, selfSignedCert } from '../support/certs.js';

const run = (args: string[]) => runCli([...args, '--workers', '1', '--no-reports']);

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

/** A TCP server that answers each request with `answer(bytes of a 200)` and then closes the connection. */
async function closingServer(t: Test, cut: (ok: Buffer) => Buffer): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d) => {
      const req = parseMessage(d, { stream: true });
      s.end(cut(serializeMessage(createResponse(req, 200, undefined, 'closing'))));
    });
  });
  t.teardown(() => server.close());
  return listen(server);
}

function step(r: { result?: { scenarios: { roles: { steps: { sent: number; errors: number; timeouts: number; finals: number }[] }[] }[] } }) {
  return r.result!.scenarios[0]!.roles[0]!.steps[0]!;
}

t.test('a TCP server that closes in the middle of its response: the request fails at once, counted', async (t) => {
  const port = await closingServer(t, (ok) => ok.subarray(0, 40));
  const r = await runCli(['run', 'test/fixtures/scenarios/options-stream.yaml', '--target', `sip:127.0.0.1:${port};transport=tcp`, '--workers', '1']);
  t.equal(r.status, 1, r.out);
  t.match(r.out, /✗ 2 × step 1 'OPTIONS': tcp 127\.0\.0\.1:\d+: connection closed in the middle of a message \(40 bytes of it received\) \(TRANSPORT_CLOSED_MID_MESSAGE\)/, 'the reason names the transport error');
  t.notMatch(r.out, /no final response/, 'not a timeout');
  // One per connection: the second request may ride the first connection before its close is seen.
  t.ok(r.result.scenarios[0].transport.transportErrors.TRANSPORT_CLOSED_MID_MESSAGE >= 1, 'the cut-off response counted');
  t.match(step(r), { sent: 2, errors: 2, timeouts: 0, finals: 0 }, 'sent = errors: the count balances');
});

t.test('a TCP server that closes with the request unanswered: failed at once, TRANSPORT_CLOSED counted', async (t) => {
  const port = await closingServer(t, () => Buffer.alloc(0));
  const r = await run(['run', 'test/fixtures/scenarios/options-stream.yaml', '--target', `sip:127.0.0.1:${port};transport=tcp`]);
  t.equal(r.status, 1, r.out);
  t.match(r.out, /connection closed by the peer \(TRANSPORT_CLOSED\)/);
  t.notMatch(r.out, /no final response/, 'not a timeout');
});

t.test('a TLS handshake that fails mid-run fails the step at once with the reason on the console', { skip: !opensslAvailable() && process.env.CI !== 'true' && 'openssl not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const trusted = selfSignedCert(dir, 'trusted');
  const other = selfSignedCert(dir, 'other');
  // Two TLS servers behind one port: the first connection (the start-of-run probe) meets the trusted
  // certificate, every later one (the run's) an untrusted one, as if the server's certificate changed.
  const answer = (s: tls.TLSSocket) => {
    s.on('error', () => {});
    s.on('data', (d) => s.write(serializeMessage(createResponse(parseMessage(d, { stream: true }), 200, undefined, 'tls'))));
  };
  const good = tls.createServer({ cert: readFileSync(trusted.certFile), key: readFileSync(trusted.keyFile) }, answer);
  const bad = tls.createServer({ cert: readFileSync(other.certFile), key: readFileSync(other.keyFile) }, answer);
  for (const s of [good, bad]) s.on('tlsClientError', () => {});
  const goodPort = await listen(good);
  const badPort = await listen(bad);
  let connections = 0;
  const front = net.createServer((c) => {
    c.on('error', () => {});
    const back = net.connect(++connections === 1 ? goodPort : badPort, '127.0.0.1');
    back.on('error', () => c.destroy());
    c.pipe(back).pipe(c);
  });
  t.teardown(() => {
    front.close();
    good.close();
    bad.close();
  });
  const port = await listen(front);
  const r = await runCli(['run', 'test/fixtures/scenarios/options-stream.yaml', '--target', `sips:127.0.0.1:${port}`, '--tls-ca', trusted.certFile, '--workers', '1']);
  t.equal(r.status, 1, r.out);
  t.ok(connections >= 2, 'the probe passed, then the run connected');
  t.match(r.out, /✗ 2 × step 1 'OPTIONS': TLS handshake with 127\.0\.0\.1:\d+ failed: self-signed certificate \(TLS_DEPTH_ZERO_SELF_SIGNED_CERT\)/, 'the reason on the console');
  t.notMatch(r.out, /no final response/, 'not a timeout');
  t.ok(r.result.scenarios[0].transport.transportErrors.TLS_DEPTH_ZERO_SELF_SIGNED_CERT >= 1, 'the failed handshake counted');
  t.match(step(r), { sent: 2, errors: 2, timeouts: 0 });
});
