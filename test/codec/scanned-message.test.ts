// A message made from a scan (engine/codec/scanned-message.ts) over time:
// messages kept while the record pool moves on to new arrays still read their
// own bytes; a header changed after the view answered is what every accessor
// then reports; the body is the framed bytes. And the wire writer's slab
// (engine/codec/sent-request.ts): a request handed out is never touched by
// the ones written after it, across slabs and for requests larger than one.

import t from 'tap';
import { MessageScan, parseMessage, WireWriter, type SipMessage } from '../../engine/codec/index.js';

function response(i: number, body = ''): Buffer {
  return Buffer.from(
    `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-${i}\r\nFrom: <sip:a@h>;tag=f${i}\r\nTo: "B ${i}" <sip:b@h>;tag=t${i}\r\n` +
      `Call-ID: c${i}@h\r\nCSeq: ${i} INVITE\r\nContact: <sip:b@127.0.0.1:${1000 + (i % 60000)}>\r\nX-Pad: ${'p'.repeat(i % 50)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
}

const summary = (m: SipMessage) =>
  JSON.stringify([m.status, m.reason, m.topBranch(), m.cseq(), m.callId(), m.from().tag, m.to().tag, m.to().display, m.to().uri, m.get('Contact'), m.get('X-Pad'), m.body.toString()]);

t.test('messages kept while the record pool moves on read their own bytes', async (t) => {
  const scan = new MessageScan();
  const kept: { m: SipMessage; buf: Buffer }[] = [];
  // 5,000 records of 16 + 4 * 9 ints outgrow many pool arrays of 2,048 ints.
  for (let i = 0; i < 5_000; i++) {
    const buf = response(i, i % 3 === 0 ? `v=${i}` : '');
    if (scan.scan(buf) === 'ok') kept.push({ m: scan.toMessage(), buf });
  }
  t.equal(kept.length, 5_000, 'the scanner reads every one');
  const differ = kept.filter(({ m, buf }) => summary(m) !== summary(parseMessage(buf)));
  t.equal(differ.length, 0, 'every kept message answers as the parser does');
});

t.test('a header changed after the view answered is what the accessors report', async (t) => {
  const scan = new MessageScan();
  scan.scan(response(7, 'v=0'));
  const m = scan.toMessage();
  t.equal(m.to().tag, 't7');
  t.equal(m.cseq().seq, 7);
  t.equal(m.get('Call-ID'), 'c7@h');
  m.set('To', '<sip:x@y>;tag=changed');
  m.set('CSeq', '8 BYE');
  m.add('Route', '<sip:p@q;lr>');
  t.same([m.to().tag, m.to().uri, m.cseq(), m.get('Route'), m.count('Route'), m.get('Call-ID')], ['changed', 'sip:x@y', { seq: 8, method: 'BYE' }, '<sip:p@q;lr>', 1, 'c7@h']);
  t.equal(m.body.toString(), 'v=0');
  m.remove('Via');
  t.throws(() => m.topBranch(), /missing Via/);
});

t.test('the writer hands out views its later requests never touch, across slabs and past a slab size', async (t) => {
  const w = new WireWriter();
  const out: { buf: Buffer; text: string }[] = [];
  for (let i = 0; i < 400; i++) {
    // Mostly small requests, now and then one larger than a whole slab (8 KB).
    const text = `REQ ${i} ${'x'.repeat(i % 97 === 0 ? 9_000 + i : 100 + (i * 37) % 400)}\r\n`;
    w.reset();
    w.text(text.slice(0, 10));
    w.int(i);
    w.text(text.slice(10));
    out.push({ buf: w.finish(), text: text.slice(0, 10) + i + text.slice(10) });
  }
  const wrong = out.filter(({ buf, text }) => buf.toString('latin1') !== text).length;
  t.equal(wrong, 0, 'every request still holds exactly its own bytes');
  const scratch = new WireWriter();
  scratch.text('body');
  w.reset();
  w.text('head ');
  w.append(scratch);
  t.equal(w.finish().toString(), 'head body', 'append copies what the other writer holds');
});
