// RFC 3581 §4: a request with `rport` in its top Via is answered to the port it
// came from, not the port its Via names; the 400s the server sends for
// malformed requests (outside any transaction) included. Each case comes from
// a real UDP socket whose Via names the port of a second socket of the test.

import t from 'tap';
import dgram from 'node:dgram';
import { startServer } from '../../engine/server/index.js';

function bind(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

function firstDatagram(s: dgram.Socket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing on port ${s.address().port} within ${timeoutMs} ms`)), timeoutMs);
    s.once('message', (d) => {
      clearTimeout(timer);
      resolve(d.toString('latin1'));
    });
  });
}

const CASES: { name: string; headers: string; body?: string }[] = [
  { name: 'CSeq -1', headers: 'CSeq: -1 OPTIONS' },
  { name: 'CSeq 2^31', headers: 'CSeq: 2147483648 OPTIONS' },
  { name: 'huge Max-Forwards', headers: 'CSeq: 1 OPTIONS\r\nMax-Forwards: 4294967296000' },
  { name: 'huge Expires', headers: 'CSeq: 1 OPTIONS\r\nExpires: 99999999999999999999' },
  { name: 'Content-Length larger than the datagram', headers: 'CSeq: 1 OPTIONS\r\nContent-Type: text/plain', body: 'hi' },
];

t.test('400 for a malformed request goes to the source port when the Via asks for rport', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const client = await bind();
  const decoy = await bind();
  let decoyGot = 0;
  decoy.on('message', () => decoyGot++);
  t.teardown(async () => {
    client.close();
    decoy.close();
    await server.close();
  });
  const port = server.endpoints[0]!.port;
  for (const [i, c] of CASES.entries()) {
    const body = c.body ?? '';
    const contentLength = c.body === undefined ? 0 : 9999;
    const text =
      `OPTIONS sip:service@127.0.0.1:${port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${decoy.address().port};branch=z9hG4bK-rport400-${i};rport\r\n` +
      `From: <sip:user1@127.0.0.1>;tag=f${i}\r\nTo: <sip:service@127.0.0.1>\r\nCall-ID: rport400-${i}@test\r\n` +
      `${c.headers}\r\nContent-Length: ${contentLength}\r\n\r\n${body}`;
    const answer = firstDatagram(client);
    client.send(Buffer.from(text, 'latin1'), port, '127.0.0.1');
    const res = await answer;
    t.match(res, /^SIP\/2\.0 400 /, `${c.name}: 400 at the source port`);
    t.match(res, new RegExp(`;rport=${client.address().port}\\b`), `${c.name}: the Via of the 400 carries rport=<source port>`);
  }
  // A closing OPTIONS that is well formed, aimed the same way: its 200 is the last datagram either socket could see.
  const ok = firstDatagram(client);
  client.send(
    Buffer.from(
      `OPTIONS sip:service@127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${decoy.address().port};branch=z9hG4bK-rport400-ok;rport\r\n` +
        `From: <sip:user1@127.0.0.1>;tag=fok\r\nTo: <sip:service@127.0.0.1>\r\nCall-ID: rport400-ok@test\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`,
    ),
    port,
    '127.0.0.1',
  );
  t.match(await ok, /^SIP\/2\.0 200 /);
  t.equal(decoyGot, 0, 'nothing went to the port the Via names');
  t.equal(server.stats().responses['400'], CASES.length, 'every case answered 400 and counted');
});
