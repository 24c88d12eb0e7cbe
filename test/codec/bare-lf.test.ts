// Messages whose lines end in a bare LF (RFC 3261 §7 wants CRLF; Kamailio and
// most stacks read them anyway): parsed like their CRLF twins, framed on
// streams at every split point, answered by the embedded server instead of
// dropped, and flagged by the conformance catalog as a warning.

import t from 'tap';
import { createRequest, createResponse, parseMessage, serializeMessage, StreamFramer, type SipMessage } from '../../engine/codec/index.js';
import { ConformanceChecker, ALL_CHECKS } from '../../engine/conformance/index.js';
import { startServer } from '../../engine/server/index.js';
import { TestClient } from '../support/udp-client.js';

const crlf = (n: number, body = 'v=0\r\n') =>
  `INVITE sip:service@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-lf-${n}\r\nMax-Forwards: 70\r\n` +
  `From: <sip:user1@127.0.0.1>;tag=f${n}\r\nTo: <sip:service@127.0.0.1>\r\nCall-ID: lf-${n}@h\r\nCSeq: ${n} INVITE\r\n` +
  `Subject: folded\r\n  over two lines\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
/** The same message with LF line ends in the start line and headers (the body keeps its bytes). */
const lf = (n: number, body = 'v=0\r\n') => {
  const text = crlf(n, body);
  const cut = text.indexOf('\r\n\r\n');
  return text.slice(0, cut).replace(/\r\n/g, '\n') + '\n\n' + text.slice(cut + 4);
};
const fields = (m: SipMessage) => ({ method: m.method, uri: m.uri, headers: m.headers, body: m.body.toString('latin1'), branch: m.topBranch(), cseq: m.cseq() });

t.test('a request with bare LF line ends parses like its CRLF twin, and says so', async (t) => {
  const a = parseMessage(Buffer.from(crlf(1)));
  const b = parseMessage(Buffer.from(lf(1)));
  t.same(fields(b), fields(a), 'start line, headers (the folded one unfolded), body by Content-Length');
  t.equal(a.bareLf, false);
  t.equal(b.bareLf, true);
  // Mixed: LF lines, a CRLF blank line; and bare LFs before the start line (RFC 3261 §7.5 liberally).
  const mixed = parseMessage(Buffer.from('\n' + lf(2).replace('\n\n', '\n\r\n')));
  t.equal(mixed.body.toString(), 'v=0\r\n');
  t.equal(mixed.get('Subject'), 'folded over two lines');
  const res = parseMessage(Buffer.from('SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\nCall-ID: c\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n'));
  t.equal(res.status, 200);
  t.equal(res.get('Call-ID'), 'c');
  const noBlank = parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nCSeq: 1 OPTIONS\n'));
  t.equal(noBlank.get('CSeq'), '1 OPTIONS', 'a datagram that ends after its last header line has no body');
  t.throws(() => parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\nCall-ID: x')), { code: 'SIP_PARSE_TRUNCATED' });
  t.throws(() => parseMessage(Buffer.from(lf(3, 'v=0\r\n').replace('Content-Length: 5', 'Content-Length: 50'))), { code: 'SIP_PARSE_CONTENT_LENGTH' }, 'Content-Length still frames the body');
});

t.test('streams: LF and CRLF messages back to back, split at every byte boundary', async (t) => {
  const bytes = Buffer.from(lf(1, 'a\n\nb') + crlf(2) + lf(3, ''));
  for (let cut = 1; cut < bytes.length; cut++) {
    const f = new StreamFramer();
    const got = [...f.push(bytes.subarray(0, cut)), ...f.push(bytes.subarray(cut))].map((g) => parseMessage(g, { stream: true }));
    const summary = got.map((m) => `${m.cseq().seq}:${m.bareLf}:${m.body.toString()}`).join(' ');
    if (summary !== '1:true:a\n\nb 2:false:v=0\r\n 3:true:') {
      t.fail(`cut at ${cut}: ${summary}`);
      return;
    }
  }
  t.pass('three messages every time, bodies intact');
});

t.test('the embedded server answers a bare-LF request instead of dropping it', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const client = await new TestClient(server.endpoints[0]!.port).start();
  t.teardown(async () => {
    client.close();
    await server.close();
  });
  const opt = client.request('OPTIONS', `sip:127.0.0.1:${server.endpoints[0]!.port}`);
  client.sendRaw(serializeMessage(opt).toString('latin1').replace(/\r\n/g, '\n'));
  const res = await client.wait((m) => !m.isRequest && m.callId() === opt.callId());
  t.equal(res.status, 200, 'OPTIONS with LF line ends: 200');
  t.same(server.stats().parseErrors, {}, 'nothing counted as a parse error');
});

t.test('the catalog warns about a peer that ends lines in a bare LF (RFC 3261 §7)', async (t) => {
  const check = ALL_CHECKS.find((c) => c.id === 'response.crlf-line-ends');
  t.match(check, { rfc: 'RFC 3261', section: '7', severity: 'warning' });
  const req = createRequest({ method: 'OPTIONS', uri: 'sip:a@b', from: '<sip:x@y>;tag=1', to: '<sip:a@b>', callId: 'c1', cseq: 1, via: 'SIP/2.0/UDP h:5060;branch=z9hG4bKq' });
  const wire = serializeMessage(createResponse(req, 200, undefined, 't'));
  const c = new ConformanceChecker();
  c.response(req, parseMessage(wire));
  c.response(req, parseMessage(Buffer.from(wire.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')));
  c.request(parseMessage(Buffer.from(lf(4))));
  t.match(c.counts['response.crlf-line-ends'], { passed: 1, failed: 1 });
  t.match(c.counts['response.crlf-line-ends']!.examples[0], /lines end in a bare LF, not CRLF — in: SIP\/2\.0 200 OK/);
  t.match(c.counts['request.crlf-line-ends'], { passed: 0, failed: 1 });
  const failedOthers = Object.entries(c.counts).filter(([id, v]) => v.failed > 0 && !id.endsWith('crlf-line-ends'));
  t.same(failedOthers, [], 'and nothing else: the message itself is fine');
});
