// Transports over real sockets: UDP on IPv4 and IPv6, TCP with framing and
// connection reuse, TLS with certificate checking on (a self-signed
// certificate is refused) and off on request; target parsing.

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport, parseTargetText, resolveTarget, type Endpoint, type Transport } from '../../engine/transport/index.js';

function collector() {
  const got: { data: string; source: Endpoint }[] = [];
  const errors: string[] = [];
  let wake: (() => void) | undefined;
  return {
    got,
    errors,
    events: {
      onMessage: (data: Buffer, source: Endpoint) => {
        got.push({ data: data.toString(), source });
        wake?.();
      },
      onError: (code: string) => {
        errors.push(code);
        wake?.();
      },
    },
    until: (pred: () => boolean, ms = 3000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timeout')), ms);
        const check = () => {
          if (pred()) {
            clearTimeout(timer);
            resolve();
          }
        };
        wake = check;
        check();
      }),
  };
}

const msg = (n: number) => Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nCall-ID: c${n}\r\nContent-Length: 0\r\n\r\n`);

for (const host of ['127.0.0.1', '::1']) {
  t.test(`UDP round trip on ${host}`, async (t) => {
    const a = collector();
    const b = collector();
    const ta = await createTransport({ protocol: 'udp', host, port: 0, events: a.events });
    const tb = await createTransport({ protocol: 'udp', host, port: 0, events: b.events });
    t.teardown(async () => {
      await ta.close();
      await tb.close();
    });
    ta.send(msg(1), tb.local);
    await b.until(() => b.got.length === 1);
    t.equal(b.got[0]!.source.port, ta.local.port);
    t.equal(b.got[0]!.source.host, host);
  });
}

t.test('TCP: framing, reuse of the connection in both directions', async (t) => {
  const a = collector();
  const b = collector();
  const server = await createTransport({ protocol: 'tcp', host: '127.0.0.1', port: 0, events: b.events });
  const client = await createTransport({ protocol: 'tcp', host: '127.0.0.1', port: 0, events: a.events });
  t.teardown(async () => {
    await client.close();
    await server.close();
  });
  for (let i = 0; i < 5; i++) client.send(msg(i), server.local);
  await b.until(() => b.got.length === 5);
  t.same(b.got.map((g) => /c(\d)/.exec(g.data)![1]), ['0', '1', '2', '3', '4'], 'in order, one message each');
  const source = b.got[0]!.source;
  t.ok(b.got.every((g) => g.source.port === source.port), 'one connection');
  server.send(msg(9), source);
  await a.until(() => a.got.length === 1);
  t.match(a.got[0]!.data, /c9/, 'the answer came back on the same connection');
});

t.test('TLS: verification on by default refuses a self-signed certificate; --tls-insecure accepts it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const s = collector();
  const server = await createTransport({ protocol: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: cert, keyFile: key }, events: s.events });
  const strict = collector();
  const loose = collector();
  const strictClient: Transport = await createTransport({ protocol: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: cert, keyFile: key }, events: strict.events });
  const looseClient: Transport = await createTransport({ protocol: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: cert, keyFile: key, rejectUnauthorized: false }, events: loose.events });
  t.teardown(async () => {
    await strictClient.close();
    await looseClient.close();
    await server.close();
  });
  strictClient.send(msg(1), server.local);
  await strict.until(() => strict.errors.length > 0);
  t.equal(strict.errors[0], 'TLS_DEPTH_ZERO_SELF_SIGNED_CERT', 'refused: the failed handshake is named by its reason');
  looseClient.send(msg(2), server.local);
  await s.until(() => s.got.some((g) => g.data.includes('c2')));
  t.notOk(s.got.some((g) => g.data.includes('c1')), 'nothing got through the refused connection');
  await t.rejects(createTransport({ protocol: 'tls', host: '127.0.0.1', port: 0, tls: { certFile: join(dir, 'missing.pem') }, events: s.events }), { code: 'TLS_FILE_UNREADABLE' });
});

t.test('targets', async (t) => {
  t.same(parseTargetText('sip:127.0.0.1:5070;transport=tcp'), { scheme: 'sip', host: '127.0.0.1', port: 5070, protocol: 'tcp' });
  t.same(parseTargetText('sips:example.com'), { scheme: 'sips', host: 'example.com', port: undefined, protocol: 'tls' });
  t.same(parseTargetText('[::1]:5080'), { scheme: 'sip', host: '::1', port: 5080, protocol: 'udp' });
  t.equal((await resolveTarget('localhost:5060')).endpoint.host, '127.0.0.1');
  for (const bad of ['', 'http://example.com', 'sip:host:99999', '::1:5060', 'sip:host;transport=sctp', 'sip:ho st']) {
    t.throws(() => parseTargetText(bad), { code: 'BAD_TARGET' }, `'${bad}' is refused`);
  }
});
