// The WebSocket upgrade a run sends (RFC 7118 §4) and what keeps a connection
// alive: the `sip` subprotocol, --ws-origin and --ws-header as a WebRTC
// gateway sees them, the path of a ws:// target; WSS against
// `sipstorm serve --transport wss` with its certificate trusted by --tls-ca;
// and a peer that never answers pings is closed (WS_PING_TIMEOUT), its
// connection reported lost.

import t from 'tap';
import http from 'node:http';
import type net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { createResponse, parseMessage, serializeMessage } from '../../engine/codec/index.js';
import { startServer } from '../../engine/server/index.js';
import { createTransport } from '../../engine/transport/index.js';
import { runCli } from '../support/cli.js';
import { opensslAvailable, selfSignedCert } from '../support/certs.js';

t.test('the upgrade carries sip, the Origin, the extra headers and the path', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const paths: string[] = [];
  const server = http.createServer();
  const wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('sip') ? 'sip' : false) });
  wss.on('connection', (ws, req) => {
    seen.push(req.headers);
    paths.push(req.url ?? '');
    ws.on('message', (d: Buffer) => {
      const res = createResponse(parseMessage(d), 200, undefined, 'peer');
      res.add('Allow', 'OPTIONS, INVITE, ACK, BYE, CANCEL');
      ws.send(serializeMessage(res));
    });
  });
  t.teardown(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.close();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const r = await runCli(['run', 'scenarios/options.yaml', '--target', `ws://127.0.0.1:${port}/sip/edge`, '--total', '2', '--rate', '10', '--workers', '1', '--ws-origin', 'https://phone.example.com', '--ws-header', 'Authorization: Bearer t0k3n', '--ws-header', 'X-Tenant: blue']);
  t.equal(r.status, 0, r.out.slice(-1500));
  t.equal(seen.length, 2, 'one connection per UA');
  for (const h of seen) {
    t.equal(h['sec-websocket-protocol'], 'sip');
    t.equal(h.origin, 'https://phone.example.com');
    t.equal(h.authorization, 'Bearer t0k3n');
    t.equal(h['x-tenant'], 'blue');
  }
  t.same(paths, ['/sip/edge', '/sip/edge']);
});

t.test('WSS against sipstorm serve --transport wss, its certificate trusted with --tls-ca', { skip: !opensslAvailable() && process.env.CI !== 'true' && 'openssl not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-wss-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { certFile, keyFile } = selfSignedCert(dir);
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp', 'wss'], wssPort: 0, tls: { certFile, keyFile } });
  t.teardown(() => server.close());
  const wss = server.endpoints.find((e) => e.protocol === 'wss')!;
  const r = await runCli(['run', 'scenarios/uas-call.yaml', '--target', `wss://127.0.0.1:${wss.port}/`, '--tls-ca', certFile, '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-2000));
  t.equal(r.result?.totals.failed, 0);
  t.match(r.stdout, /-> sip:127\.0\.0\.1:\d+;transport=wss \(wss\)/);
  const untrusted = await runCli(['run', 'scenarios/options.yaml', '--target', `wss://127.0.0.1:${wss.port}/`, '--workers', '1', '--no-reports']);
  t.equal(untrusted.status, 3, 'an untrusted certificate is refused at start');
  t.match(untrusted.stderr, /TLS handshake failed: self-signed certificate/);
});

t.test('a peer that never answers pings: WS_PING_TIMEOUT, the connection reported lost', async (t) => {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, autoPong: false, handleProtocols: () => 'sip' });
  t.teardown(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.close();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const lost: string[] = [];
  let ended!: () => void;
  const gone = new Promise<void>((r) => (ended = r));
  const client = await createTransport({
    protocol: 'ws', host: '127.0.0.1', port: 0, ws: { pingIntervalMs: 50 },
    events: { onMessage: () => undefined, onError: () => undefined, onConnectionLost: (_r, code) => (lost.push(code), ended()) },
  });
  t.teardown(() => client.close());
  client.send(Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'), { protocol: 'ws', host: '127.0.0.1', port });
  await gone;
  t.same(lost, ['WS_PING_TIMEOUT']);
  t.same(client.counters.errors, { WS_PING_TIMEOUT: 1 });
});
