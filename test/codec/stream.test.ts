// Stream framing by Content-Length (RFC 3261 §18.3): messages split at every
// byte boundary, several in one chunk, CRLF keep-alives, bounded memory.

import t from 'tap';
import { StreamFramer, parseMessage, SipParseError } from '../../engine/codec/index.js';

const msg = (n: number, body = '') =>
  `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK${n}\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c${n}\r\nCSeq: ${n} OPTIONS\r\nl: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

t.test('two messages split at every byte boundary', async (t) => {
  const bytes = Buffer.from(msg(1, 'hello\r\n\r\nworld') + '\r\n\r\n' + msg(2));
  for (let cut = 1; cut < bytes.length; cut++) {
    const f = new StreamFramer();
    const got = [...f.push(bytes.subarray(0, cut)), ...f.push(bytes.subarray(cut))];
    if (got.length !== 2) {
      t.fail(`cut at ${cut}: ${got.length} messages`);
      return;
    }
    const [a, b] = got.map((g) => parseMessage(g, { stream: true }));
    if (a!.body.toString() !== 'hello\r\n\r\nworld' || b!.cseq().seq !== 2) {
      t.fail(`cut at ${cut}: wrong framing`);
      return;
    }
  }
  t.pass('every split gives the same two messages, the body with its blank line intact');
});

t.test('byte by byte', async (t) => {
  const f = new StreamFramer();
  const out: Buffer[] = [];
  for (const b of Buffer.from(msg(3) + msg(4) + msg(5))) out.push(...f.push(Buffer.from([b])));
  t.equal(out.length, 3);
  t.equal(f.buffered, 0);
});

t.test('limits: 10 MB without a header end fails after 64 KiB, memory bounded', async (t) => {
  const f = new StreamFramer();
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let error: unknown;
  let pushed = 0;
  try {
    for (; pushed < 160; pushed++) f.push(chunk);
  } catch (err) {
    error = err;
  }
  t.ok(error instanceof SipParseError);
  t.equal((error as SipParseError).code, 'SIP_FRAME_HEADER_TOO_LARGE');
  t.ok(pushed <= 2, `stopped after ${pushed + 1} chunks, not 10 MB`);
  t.equal(f.buffered, 0, 'buffer released');
  const big = new StreamFramer({ maxBodyBytes: 100 });
  t.throws(() => big.push(Buffer.from(msg(6, 'x'.repeat(101)))), { code: 'SIP_FRAME_BODY_TOO_LARGE' });
  const nolen = new StreamFramer();
  t.throws(() => nolen.push(Buffer.from('OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n')), { code: 'SIP_PARSE_CONTENT_LENGTH' });
});
