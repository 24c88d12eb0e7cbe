// RFC 4475 torture messages, byte for byte: accepted ones parse with the right
// values, rejected ones fail with a SipParseError saying what is wrong, and no
// input throws anything else.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseMessage, validateMessage, SipParseError, parseUri, type SipMessage } from '../../engine/codec/index.js';

const dir = new URL('../../../test/fixtures/rfc4475/', import.meta.url);
const rows = readFileSync(new URL('index.tsv', dir), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t') as [string, string, string, string]);

function load(file: string): SipMessage {
  const msg = parseMessage(readFileSync(new URL(file, dir)));
  validateMessage(msg);
  return msg;
}

t.equal(rows.length, 49, 'all 49 torture messages are indexed');

for (const [file, section, expected] of rows) {
  t.test(`${file} (RFC 4475 §${section}, ${expected})`, async (t) => {
    let error: unknown;
    try {
      load(file);
    } catch (err) {
      error = err;
    }
    if (error !== undefined) t.ok(error instanceof SipParseError, `only SipParseError is thrown (${String(error)})`);
    if (expected === 'accept') t.equal(error, undefined, 'parses and validates');
    if (expected === 'reject') {
      t.ok(error instanceof SipParseError, 'rejected');
      t.match((error as SipParseError).message, /\S{3,}/, 'with a message');
    }
  });
}

t.test('values of accepted messages', async (t) => {
  const ws = load('wsinv.dat');
  t.equal(ws.method, 'INVITE');
  t.equal(ws.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
  t.equal(ws.callId(), 'wsinv.ndaksdj@192.0.2.1', 'compact i: form, folded value');
  t.equal(ws.cseq().seq, 9);
  t.equal(ws.to().tag, '1918181833n');
  t.equal(ws.vias().length, 3, 'three Via values across lines and commas');
  t.equal(ws.topVia().branch, '390skdjuw');
  t.equal(ws.topVia().transport, 'UDP');
  t.equal(ws.vias()[0]!.host, '192.0.2.2');
  t.equal(ws.get('Subject'), '', 'Subject: present with an empty value');
  t.equal(ws.maxForwards(), 68);
  t.equal(ws.body.length, 150);

  const esc = load('escnull.dat');
  t.equal(parseUri(esc.to().uri).user, 'null-%00-null', '%00 does not truncate the user part');

  const dbl = load('dblreq.dat');
  t.equal(dbl.method, 'REGISTER');
  t.equal(dbl.body.length, 0, 'bytes after Content-Length are discarded');

  const semi = load('semiuri.dat');
  t.equal(parseUri(semi.uri).user, 'user;par=u%40example.net', "';' in the user part is not a URI parameter");

  const mp = load('mpart01.dat');
  t.equal(mp.body.length, mp.contentLength(), 'binary body framed by Content-Length');
  t.ok(mp.body.includes(0), 'body keeps its NUL bytes');

  const ur = load('unreason.dat');
  t.equal(ur.status, 200);
  t.match(ur.reason, /^= 2\*\*3 \* 5\*\*2/, 'UTF-8 reason phrase kept');
  const nr = load('noreason.dat');
  t.equal(nr.reason, '', 'empty reason phrase');

  const long = load('longreq.dat');
  t.ok(long.vias().length >= 30, 'many Via values');
  t.ok(long.get('To')!.length > 100);

  const ip6 = load('transports.dat');
  t.equal(ip6.vias().length, 5);

  const cparam = load('cparam01.dat');
  const contact = cparam.contacts()[0]!;
  t.equal(contact.uri, 'sip:+19725552222@gw1.example.net', 'addr-spec: the URI ends at the first ;');
  t.ok(contact.params.has('unknownparam'), 'the parameter stays a contact parameter');

  const inv = load('inv2543.dat');
  t.equal(inv.topVia().branch, undefined, 'RFC 2543 request has no branch');
  t.equal(inv.from().tag, undefined);
  t.equal(inv.contentLength(), undefined, 'no Content-Length on UDP: body is the rest');
});

t.test("topBranch (read off the text) agrees with the parsed top Via's branch on every torture message", async (t) => {
  let compared = 0;
  for (const [file] of rows) {
    let msg: SipMessage;
    let parsed: string;
    try {
      msg = parseMessage(readFileSync(new URL(file, dir)));
      parsed = msg.topVia().branch ?? '';
    } catch {
      continue; // no Via that parses: nothing to agree with
    }
    const fresh = parseMessage(readFileSync(new URL(file, dir)));
    t.equal(fresh.topBranch(), parsed, file);
    compared++;
  }
  t.ok(compared >= 40, `${compared} messages compared`);
  const compact = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;rport ; BRANCH = z9hG4bK1;received=1.2.3.4, SIP/2.0/UDP p;branch=z9hG4bK2\r\nCSeq: 1 OPTIONS\r\n\r\n'));
  t.equal(compact.topBranch(), 'z9hG4bK1', 'compact form, spaces, case, a second value on the same line');
  t.throws(() => parseMessage(Buffer.from('SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n')).topBranch(), /missing Via/);
});
