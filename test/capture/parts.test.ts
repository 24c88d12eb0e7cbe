// The worker side of a capture without the network: records masked as the
// worker's redaction says (a password pattern too), capped per part with the
// count in the trailer, and merged from several parts in time order; a part
// cut mid-record (a worker that crashed while writing) keeps what came before.

import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureRecorder, passwordPatternMask, secretsMask } from '../../engine/capture/index.js';
import { mergeParts } from '../../engine/capture/merge.js';
import { Kind, PartReader, type CaptureRecord } from '../../engine/capture/record.js';
import type { CaptureSink } from '../../engine/capture/sink.js';
import { redact } from '../../engine/ua/redact.js';

/** A sink that keeps what it is given. */
function collector(): CaptureSink & { got: CaptureRecord[] } {
  return { file: '-', maxBytes: Infinity, bytes: 0, messages: 0, truncated: false, notWritten: 0, got: [], add(r) { this.got.push(r); }, close() {} };
}

t.test('a password pattern masks what it can make, nothing else', async (t) => {
  const re = passwordPatternMask('secret{n}')!;
  t.equal('a secret12 b secret7 secretx'.replace(re, '***'), 'a *** b *** secretx');
  t.equal('pw-0042x'.replace(passwordPatternMask('pw-{n:04}x')!, '***'), '***');
  t.equal(passwordPatternMask('fixed'), undefined, 'no {n}: a known password, masked by the list');
  t.equal(passwordPatternMask('{n}'), undefined, 'a bare number would mask every number');
});

t.test('known passwords masked in one pass, as the reports mask them', async (t) => {
  const secrets = Array.from({ length: 50_000 }, (_, i) => `pw${i}x`);
  const mask = secretsMask([...secrets, 'ab', 'pw12x-longer']);
  const text = 'a pw12x b pw12x-longer c pw49999x d pw50000x ab pw1';
  t.equal(mask(text), 'a *** b *** c *** d pw50000x ab pw1', 'each known one, the longest at a position; unknown and short ones kept');
  t.equal(mask(text), redact(text, [...secrets, 'pw12x-longer'].sort((a, b) => b.length - a.length)), 'what the reports\' redaction makes of it');
  t.equal(mask('nothing here'), 'nothing here');
});

t.test('records masked, capped per part, merged in time order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-parts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const re = passwordPatternMask('secret{n}')!;
  const mask = (s: string) => redact(s, []).replace(re, '***');
  const a = new CaptureRecorder({ dir, allMaxBytes: 200 }, mask);
  const b = new CaptureRecorder({ dir, allMaxBytes: 200 }, mask);
  const msg = (s: string) => Buffer.from(s, 'latin1');
  a.tap!.message(false, 'udp', msg('REGISTER sip:x SIP/2.0\r\nAuthorization: Digest response="deadbeef", cnonce="c0ffee"\r\n\r\n'), '127.0.0.1', 1000, '127.0.0.1', 5060);
  b.tap!.message(true, 'tcp', msg('MESSAGE with secret42 in it'), '::1', 2000, '::1', 5060);
  a.tap!.message(true, 'udp', msg('SIP/2.0 200 OK\r\n\r\n'), '127.0.0.1', 1000, '127.0.0.1', 5060);
  // Over the 200-byte cap of part a: counted, not written.
  a.tap!.message(false, 'udp', msg('x'.repeat(150)), '127.0.0.1', 1000, '127.0.0.1', 5060);
  a.close();
  b.close();
  const parts = readdirSync(dir).map((f) => join(dir, f));
  t.equal(parts.length, 2, 'one part per recorder');
  const sink = collector();
  const outcome = mergeParts(parts, [sink]);
  t.equal(outcome.notWrittenByWorkers, 1, 'the trailer says one message was kept out');
  t.equal(outcome.incompleteParts, 0, 'both parts finished');
  t.same(sink.got.map((r) => r.kind), [Kind.Sent, Kind.Received, Kind.Received], 'the three written, trailers not handed on');
  t.same(sink.got.map((r) => r.t), [...sink.got.map((r) => r.t)].sort((x, y) => x - y), 'in time order across parts');
  const text = sink.got.map((r) => r.payload.toString('latin1')).join('\n');
  t.match(text, /response="\*\*\*", cnonce="\*\*\*"/, 'digest values masked');
  t.match(text, /MESSAGE with \*\*\* in it/, 'a password the pattern makes masked');
  t.notMatch(text, /deadbeef|c0ffee|secret42/);
  t.match(sink.got[1], { protocol: 'tcp', localHost: '::1', localPort: 2000, remoteHost: '::1', remotePort: 5060 }, 'addresses and transport kept');
});

t.test('a part cut mid-record keeps the records before the cut', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-parts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rec = new CaptureRecorder({ dir, allMaxBytes: 1e6 }, (s) => s);
  for (let i = 0; i < 3; i++) rec.tap!.message(false, 'udp', Buffer.from(`OPTIONS ${i}`), '127.0.0.1', 1, '127.0.0.1', 2);
  rec.close();
  const [file] = readdirSync(dir).map((f) => join(dir, f));
  // Cut off the trailer (a 32-byte record) and the end of the last message, as a crash mid-write would.
  truncateSync(file!, statSync(file!).size - 32 - 5);
  const reader = new PartReader(file!);
  const got: string[] = [];
  for (let r = reader.next(); r; r = reader.next()) got.push(r.payload.toString());
  reader.close();
  t.same(got, ['OPTIONS 0', 'OPTIONS 1'], 'the whole records');
  t.equal(reader.truncated, true, 'and the cut is noticed');
  t.equal(mergeParts([file!], [collector()]).incompleteParts, 1, 'a part without its trailer is a worker that did not finish');
});
