// WebSocket faults (RFC 7118 transport): a peer that sends a frame over the
// size limit, a handshake that never completes, an upgrade refused with 4xx,
// an upgrade without the `sip` subprotocol. Each is one counted error with a
// clear reason, the requests waiting on the connection fail at once, counts
// balance, and nothing crashes: on the client side (sipstorm run) and on the
// server side (sipstorm serve keeps serving).

import t, { type Test } from 'tap';
import http from 'node:http';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createResponse, parseMessage, serializeMessage } from '../../engine/codec/index.js';
import { startServer } from '../../engine/server/index.js';
import { createTransport, type Endpoint } from '../../engine/transport/index.js';
import { runCli } from '../support/cli.js';

const run = (args: string[]) => runCli([...args, '--workers', '1']);

async function listen(server: net.Server | http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

function options(r: { result?: { scenarios: { roles: { started: number; passed: number; failed: number; running: number; steps: { sent: number; errors: number; timeouts: number; finals: number }[] }[]; transport: { transportErrors: Record<string, number> } }[] } }) {
  const s = r.result!.scenarios[0]!;
  return { role: s.roles[0]!, step: s.roles[0]!.steps[0]!, errors: s.transport.transportErrors };
}

/** A WebSocket server taking the `sip` subprotocol that answers every request with `answer(200)`. */
async function wsPeer(t: Test, answer: (ok: Buffer) => Buffer | string): Promise<number> {
  const http1 = http.createServer();
  const wss = new WebSocketServer({ server: http1, handleProtocols: () => 'sip' });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (d: Buffer) => ws.send(answer(serializeMessage(createResponse(parseMessage(d), 200)))));
  });
  t.teardown(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    http1.close();
  });
  return listen(http1);
}

t.test('a response frame over the size limit: WS_FRAME_TOO_LARGE, the request fails at once', async (t) => {
  const port = await wsPeer(t, (ok) => Buffer.concat([ok, Buffer.alloc(4096, 'x')]));
  const r = await run(['run', 'scenarios/options.yaml', '--target', `ws://127.0.0.1:${port}/`, '--total', '3', '--rate', '10', '--max-header-bytes', '1024', '--max-body-bytes', '0']);
  t.equal(r.status, 1, r.out.slice(-1500));
  const { role, step, errors } = options(r);
  t.match(role, { started: 3, passed: 0, failed: 3, running: 0 });
  t.equal(step.sent, step.finals + step.timeouts + step.errors, 'sent = finals + timeouts + errors');
  t.equal(step.timeouts, 0, 'failed at once, not at Timer F');
  t.same(errors, { WS_FRAME_TOO_LARGE: 3 }, 'one counted error per connection (one per UA)');
  t.match(r.stdout, /a frame over the size limit \(closed with 1009\) \(WS_FRAME_TOO_LARGE\)/);
  t.notMatch(r.out, /\n\s+at /, 'no stack trace');
});

t.test('an upgrade refused with 403: WS_UPGRADE_REFUSED naming the status', async (t) => {
  const server = http.createServer();
  server.on('upgrade', (_req, socket: net.Socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
  t.teardown(() => server.close());
  const port = await listen(server);
  const r = await run(['run', 'scenarios/options.yaml', '--target', `ws://127.0.0.1:${port}/`, '--total', '2', '--rate', '10']);
  t.equal(r.status, 1, r.out.slice(-1500));
  const { role, step, errors } = options(r);
  t.match(role, { started: 2, passed: 0, failed: 2, running: 0 });
  t.equal(step.sent, step.finals + step.timeouts + step.errors);
  t.equal(step.timeouts, 0);
  t.same(errors, { WS_UPGRADE_REFUSED: 2, TRANSPORT_DROPPED_QUEUE: 2 }, 'the refusal, and the request that waited for the connection, not sent');
  t.match(r.stdout, /upgrade refused with HTTP 403 \(WS_UPGRADE_REFUSED\)/);
});

t.test('a handshake that never completes: WS_HANDSHAKE_TIMEOUT, the queued message counted as not sent', async (t) => {
  const held: net.Socket[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    held.push(s); // accepts, reads the upgrade, never answers
  });
  t.teardown(() => {
    for (const s of held) s.destroy();
    server.close();
  });
  const port = await listen(server);
  const errors: string[] = [];
  const lost: string[] = [];
  const client = await createTransport({
    protocol: 'ws', host: '127.0.0.1', port: 0, limits: { connectTimeoutMs: 200 },
    events: { onMessage: () => t.fail('no message'), onError: (code) => errors.push(code), onConnectionLost: (_r, code) => lost.push(code) },
  });
  t.teardown(() => client.close());
  const dest: Endpoint = { protocol: 'ws', host: '127.0.0.1', port };
  client.send(Buffer.from('OPTIONS sip:x SIP/2.0\r\n\r\n'), dest);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (lost.length > 0) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
  t.same(lost, ['WS_HANDSHAKE_TIMEOUT'], 'the connection is reported lost with the reason');
  t.same(errors.sort(), ['TRANSPORT_DROPPED_QUEUE', 'WS_HANDSHAKE_TIMEOUT'], 'the timeout and the message that never left are counted');
  t.same(client.counters.errors, { WS_HANDSHAKE_TIMEOUT: 1, TRANSPORT_DROPPED_QUEUE: 1 });
});

t.test('sipstorm serve over WebSocket: bad peers are counted and the server keeps serving', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp', 'ws'], wsPort: 0, limits: { maxHeaderBytes: 1024, maxBodyBytes: 0, messageTimeoutMs: 300 } });
  t.teardown(() => server.close());
  const ws = server.endpoints.find((e) => e.protocol === 'ws')!;
  const url = `ws://127.0.0.1:${ws.port}/`;

  // An upgrade that does not offer `sip` (RFC 7118 §4): refused with 400.
  const refused = await new Promise<string>((resolve) => {
    const c = new WebSocket(url, 'chat');
    c.on('error', (err) => resolve(err.message));
    c.on('open', () => resolve('opened'));
  });
  t.equal(refused, 'Unexpected server response: 400');

  // A frame over the limit: closed with 1009.
  const closedWith = await new Promise<number>((resolve) => {
    const c = new WebSocket(url, 'sip');
    c.on('error', () => {});
    c.on('open', () => c.send(Buffer.alloc(2048, 'x')));
    c.on('close', (code) => resolve(code));
  });
  t.equal(closedWith, 1009, 'the server closes with 1009 (message too big)');

  // A TCP connection that never sends an upgrade: closed at the message deadline.
  await new Promise<void>((resolve) => {
    const s = net.connect(ws.port, '127.0.0.1');
    s.on('error', () => {});
    s.on('close', () => resolve());
  });

  // And it still serves: an OPTIONS over a good connection is answered.
  const answer = await new Promise<string>((resolve) => {
    const c = new WebSocket(url, 'sip');
    c.on('open', () => c.send(`OPTIONS sip:127.0.0.1:${ws.port};transport=ws SIP/2.0\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bKws1\r\nMax-Forwards: 70\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:127.0.0.1:${ws.port}>\r\nCall-ID: ws-faults-1\r\nCSeq: 1 OPTIONS\r\n\r\n`));
    c.on('message', (d: Buffer) => {
      resolve(d.toString().split('\r\n')[0]!);
      c.close();
    });
  });
  t.equal(answer, 'SIP/2.0 200 OK', 'a message without Content-Length, one per frame (RFC 7118 §5)');
  const errors = server.stats().transportErrors;
  t.match(errors, { WS_NO_SUBPROTOCOL: 1, WS_FRAME_TOO_LARGE: 1, TRANSPORT_MESSAGE_TIMEOUT: 1 }, 'each counted once');
});
