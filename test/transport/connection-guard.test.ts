// Limits on accepted TCP/TLS connections, over real sockets: the caps close
// the least useful connection (one that never delivered a message, oldest
// first; then the longest idle) to make room for a new one; a message that
// trickles in slower than the message timeout closes its connection while an
// idle connection that has spoken SIP stays; a TLS peer that never finishes
// its handshake is closed at the handshake timeout. Judged by close events.

import t from 'tap';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport, type Transport, type TransportLimits } from '../../engine/transport/index.js';

const OPTIONS = (i: number) =>
  `OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-g${i}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@b>\r\nCall-ID: g${i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;

interface Peer {
  socket: net.Socket;
  closed: Promise<void>;
  isClosed: boolean;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const peer: Peer = { socket, isClosed: false, closed: new Promise((r) => socket.once('close', () => ((peer.isClosed = true), r()))) };
    socket.on('error', () => {}); // a reset after the server closes is what we expect
    socket.once('connect', () => resolve(peer));
    socket.once('error', reject);
  });
}

async function server(t: { teardown(fn: () => unknown): void }, limits: TransportLimits, protocol: 'tcp' | 'tls' = 'tcp', tls?: { certFile: string; keyFile: string }) {
  const got: string[] = [];
  const errors: string[] = [];
  let wake: (() => void) | undefined;
  const transport: Transport = await createTransport({
    protocol, host: '127.0.0.1', port: 0, listen: true, limits, tls,
    events: {
      onMessage: (d) => (got.push(d.toString('latin1')), wake?.()),
      onError: (code) => (errors.push(code), wake?.()),
    },
  });
  t.teardown(() => transport.close());
  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise<void>((r) => (wake = r));
  };
  return { transport, port: transport.local.port, got, errors, until };
}

t.test('per-address cap: a new connection closes the oldest silent one of its address, then the longest idle', async (t) => {
  const s = await server(t, { maxConnectionsPerAddress: 2 });
  const talker = await connect(s.port);
  talker.socket.write(OPTIONS(1));
  await s.until(() => s.got.length === 1);
  const silent = await connect(s.port);
  const third = await connect(s.port);
  await silent.closed;
  t.notOk(talker.isClosed, 'the connection that delivered a message stays');
  t.same(s.errors, ['TRANSPORT_ADDRESS_LIMIT'], 'counted');
  third.socket.write(OPTIONS(2));
  await s.until(() => s.got.length === 2);
  const fourth = await connect(s.port);
  await talker.closed; // both proven now: talker has been idle the longest
  t.notOk(third.isClosed);
  const other = await connect(s.port, '127.0.0.2');
  fourth.socket.write(OPTIONS(3));
  other.socket.write(OPTIONS(4));
  await s.until(() => s.got.length === 4);
  t.notOk(other.isClosed || fourth.isClosed || third.isClosed, 'another address has its own allowance');
  for (const p of [third, fourth, other]) p.socket.destroy();
});

t.test('total cap: silent connections go first, whatever their address', async (t) => {
  const s = await server(t, { maxConnections: 3 });
  const a = await connect(s.port, '127.0.0.1');
  a.socket.write(OPTIONS(1));
  await s.until(() => s.got.length === 1);
  const b = await connect(s.port, '127.0.0.2');
  const c = await connect(s.port, '127.0.0.3');
  const d = await connect(s.port, '127.0.0.4');
  await b.closed;
  const e = await connect(s.port, '127.0.0.5');
  await c.closed;
  t.notOk(a.isClosed || d.isClosed || e.isClosed);
  t.same(s.errors, ['TRANSPORT_CONNECTION_LIMIT', 'TRANSPORT_CONNECTION_LIMIT']);
  for (const p of [a, d, e]) p.socket.destroy();
});

t.test('a message trickling in slower than the message timeout is cut off; an idle connection that spoke stays', async (t) => {
  const s = await server(t, { messageTimeoutMs: 300 });
  const idle = await connect(s.port);
  idle.socket.write(OPTIONS(1));
  await s.until(() => s.got.length === 1);
  const slow = await connect(s.port);
  const text = OPTIONS(2);
  let i = 0;
  const trickle = setInterval(() => !slow.isClosed && slow.socket.write(text[i++ % 40]!), 20);
  t.teardown(() => clearInterval(trickle));
  const silent = await connect(s.port);
  await slow.closed;
  await silent.closed;
  t.ok(i > 0, 'bytes kept coming: it was not idle, only slow');
  t.notOk(idle.isClosed, 'the idle connection that delivered a message is kept (it may carry a registration)');
  t.same(s.errors.sort(), ['TRANSPORT_MESSAGE_TIMEOUT', 'TRANSPORT_MESSAGE_TIMEOUT']);
  idle.socket.write(OPTIONS(3));
  await s.until(() => s.got.length === 2);
  t.pass('and it still delivers');
  idle.socket.destroy();
});

t.test('TLS: a peer that connects and never starts the handshake is closed at the handshake timeout, and counted', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-guard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const s = await server(t, { connectTimeoutMs: 300, maxConnectionsPerAddress: 2 }, 'tls', { certFile: cert, keyFile: key });
  const stalled = await connect(s.port);
  await stalled.closed;
  await s.until(() => s.errors.length > 0);
  t.same(s.errors, ['TLS_HANDSHAKE_TIMEOUT']);
  // Handshakes in progress count against the caps too.
  const h1 = await connect(s.port);
  const h2 = await connect(s.port);
  const h3 = await connect(s.port);
  await h1.closed;
  t.notOk(h2.isClosed || h3.isClosed);
  t.ok(s.errors.includes('TRANSPORT_ADDRESS_LIMIT'));
  h2.socket.destroy();
  h3.socket.destroy();
});
