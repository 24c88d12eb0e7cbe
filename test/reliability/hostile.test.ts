// Hostile or broken servers never crash the generator: garbage datagrams,
// truncated messages, huge headers, a Content-Length that lies, responses to
// transactions that do not exist, floods of retransmitted responses, a stream
// that never ends its headers, a TLS peer that stalls mid-handshake. Each is
// counted under a named error, and the run ends with its reports.

import t from 'tap';
import dgram from 'node:dgram';
import net from 'node:net';
import { createResponse, parseMessage, serializeMessage } from '../../engine/codec/index.js';
import { createTransport, type Endpoint } from '../../engine/transport/index.js';
import { runCli } from '../support/cli.js';

const run = (args: string[]) => runCli([...args, '--workers', '1']);

t.test('a UDP server that answers every request with junk before the real answer', async (t) => {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => sock.close());
  sock.on('message', (data, rinfo) => {
    const send = (b: Buffer | string) => sock.send(typeof b === 'string' ? Buffer.from(b) : b, rinfo.port, rinfo.address);
    let req;
    try {
      req = parseMessage(data);
    } catch {
      return;
    }
    if (req.method === 'ACK') return;
    send('\u0000\u0001 not sip at all\r\n\r\n');
    send('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKtrunc\r\nCall-');
    send(`SIP/2.0 200 OK\r\nX-Huge: ${'a'.repeat(60_000)}\r\nContent-Length: 0\r\n\r\n`);
    const res = createResponse(req, 200, undefined, 'hostile');
    res.add('Allow', 'INVITE, OPTIONS');
    const ok = serializeMessage(res);
    send(Buffer.from(ok.toString().replace('Content-Length: 0', 'Content-Length: 5000')));
    const stray = createResponse(req, 200, undefined, 'x');
    stray.add('Allow', 'INVITE');
    stray.set('Via', 'SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnosuchtransaction');
    send(serializeMessage(stray));
    send(ok);
    for (let i = 0; i < 20; i++) send(ok); // a flood of retransmissions
  });
  const port = (sock.address() as { port: number }).port;
  const r = await run(['run', 'scenarios/options.yaml', '--target', `127.0.0.1:${port}`]);
  t.equal(r.status, 1, 'exit 1: the server broke a conformance rule');
  t.equal(r.result.totals.passed, 10, 'every OPTIONS got its real answer');
  const broken = r.result.conformance.filter((c: { failed: number }) => c.failed > 0).map((c: { id: string }) => c.id);
  t.same(broken, ['response.via-echoed'], 'the response to a transaction we never started is a Via the request did not have');
  const tr = r.result.scenarios[0].transport;
  t.ok(tr.parseErrors.SIP_PARSE_START_LINE >= 10, 'junk counted');
  t.ok(tr.parseErrors.SIP_PARSE_TRUNCATED >= 10, 'truncated messages counted');
  t.ok(tr.parseErrors.SIP_PARSE_CONTENT_LENGTH >= 10, 'lying Content-Length counted');
  t.ok(tr.stray >= 10, `responses to no transaction counted (${tr.stray})`);
  t.ok(tr.retransmissionsReceived >= 100, `retransmission flood absorbed (${tr.retransmissionsReceived})`);
  t.match(r.out, /unparsable messages/);
});

t.test('a TCP server that sends bytes forever without a header end: counted, disconnected, bounded', async (t) => {
  const chunk = Buffer.alloc(256 * 1024, 'x');
  let sent = 0;
  const server = net.createServer((s) => {
    s.on('error', () => {});
    const pump = () => {
      while (sent < 100 * 1024 * 1024 && !s.destroyed && s.write(chunk)) sent += chunk.length;
      if (!s.destroyed && sent < 100 * 1024 * 1024) s.once('drain', pump);
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--target', `sip:127.0.0.1:${port};transport=tcp`, '--total', '3']);
  t.equal(r.status, 1, 'the steps fail (no answer)');
  const tr = r.result.scenarios[0].transport;
  t.ok(tr.transportErrors.SIP_FRAME_HEADER_TOO_LARGE >= 1, 'the endless stream is a named, counted error');
  t.ok(sent < 100 * 1024 * 1024, `the connection was dropped long before 100 MB (${(sent / 1e6).toFixed(1)} MB written)`);
  t.equal(r.result.totals.started, r.result.totals.passed + r.result.totals.failed + r.result.totals.running);
});

t.test('a TLS peer that stalls mid-handshake: a counted timeout, not a hang', async (t) => {
  const server = net.createServer((s) => s.on('error', () => {})); // accepts, never speaks TLS
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const errors: string[] = [];
  const transport = await createTransport({
    protocol: 'tls', host: '127.0.0.1', port: 0, limits: { connectTimeoutMs: 500 },
    events: { onMessage: () => {}, onError: (code) => errors.push(code) },
  });
  t.teardown(() => transport.close());
  const dest: Endpoint = { protocol: 'tls', host: '127.0.0.1', port };
  transport.send(Buffer.from('OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n'), dest);
  await new Promise((r) => setTimeout(r, 1200));
  t.ok(errors.includes('TLS_HANDSHAKE_TIMEOUT'), `handshake timeout counted (${errors.join(', ')})`);
  t.ok(errors.includes('TRANSPORT_DROPPED_QUEUE'), 'the queued message is counted as not sent');
});

t.test('--max-header-bytes raises or lowers the stream limit', async (t) => {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d) => {
      const req = parseMessage(d, { stream: true });
      const res = createResponse(req, 200, undefined, 'big');
      res.add('Allow', 'OPTIONS');
      res.add('X-Padding', 'p'.repeat(100_000)); // a 100 KB header section
      s.write(serializeMessage(res));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const target = `sip:127.0.0.1:${port};transport=tcp`;
  const small = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--target', target, '--total', '1']);
  t.equal(small.result.scenarios[0].transport.transportErrors.SIP_FRAME_HEADER_TOO_LARGE, 1, 'refused at the 64 KiB default');
  const big = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--target', target, '--total', '1', '--max-header-bytes', '200000']);
  t.equal(big.result.totals.passed, 1, 'accepted with --max-header-bytes 200000');
});
