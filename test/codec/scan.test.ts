// The byte scanner (engine/codec/scan.ts) against the full parser, message by
// message: over the RFC 4475 torture corpus and a seeded fuzz corpus of its
// mutations, a message the scanner reads ('ok') parses and every field the
// transaction and dialog layers match by is the same, and so is the whole
// message it builds from its index (toMessage); one it rejects the
// parser rejects too; the rest it leaves to the parser ('fallback'). The seed
// is printed; FUZZ_SEED=<seed> replays the same inputs.

import t from 'tap';
import { MessageScan, parseMessage, type NameAddr, type ScanOutcome, type SipMessage } from '../../engine/codec/index.js';
import { corpus, mutate, Rng } from '../support/fuzz.js';

const MUTATED = 20_000;

/** What the parser says of the matching fields, or why it refuses the message. */
function parsed(buf: Buffer, stream: boolean): { fields: Record<string, unknown> } | { error: string } {
  let m: SipMessage;
  try {
    m = parseMessage(buf, { stream });
  } catch (err) {
    return { error: (err as Error).message };
  }
  try {
    return {
      fields: {
        isRequest: m.isRequest, status: m.status, method: m.isRequest ? m.method : '', branch: m.topBranch(), cseqSeq: m.cseq().seq,
        cseqMethod: m.cseq().method, callId: m.callId(), fromTag: m.from().tag, toTag: m.to().tag, bodyLength: m.body.length,
      },
    };
  } catch (err) {
    return { error: `accessor: ${(err as Error).message}` };
  }
}

/** Everything a SipMessage holds, for comparing the scanner's toMessage() with parseMessage. */
function whole(m: SipMessage): string {
  return JSON.stringify([m.isRequest, m.method, m.uri, m.status, m.reason, m.version, m.headers, m.body.toString('latin1'), m.raw?.length]);
}

/** What an accessor returns, or the error it throws. */
function answer(read: () => unknown): unknown {
  try {
    return read();
  } catch (err) {
    return { error: (err as Error).message };
  }
}

const nameAddr = (n: NameAddr) => [n.display, n.uri, [...n.params], n.tag, n.bracketed];

/**
 * What every accessor of a message returns, header lookups asked by each name given, read in an order that leaves the
 * header list for last (a message from a scan answers from its bytes until that list is made).
 */
function accessors(m: SipMessage, names: string[]): string {
  const out: unknown[] = [m.isRequest, m.method, m.uri, m.status, m.reason, m.version, m.bareLf];
  for (const name of names) {
    out.push(name, answer(() => m.get(name)), answer(() => m.getAll(name)), answer(() => m.single(name)), answer(() => m.has(name)), answer(() => m.count(name)));
  }
  out.push(
    answer(() => m.topBranch()), answer(() => m.cseq()), answer(() => m.callId()), answer(() => nameAddr(m.from())), answer(() => nameAddr(m.to())),
    answer(() => m.vias().map((v) => [v.protocol, v.transport, v.host, v.port, v.branch, [...v.params]])), answer(() => m.topVia().host),
    answer(() => m.contacts().map(nameAddr)), answer(() => m.isWildcardContact()), answer(() => m.maxForwards()), answer(() => m.expires()),
    answer(() => m.contentLength()), answer(() => m.intHeader('CSeq', 10)), m.body.toString('latin1'), m.raw?.toString('latin1'),
  );
  out.push(m.headers);
  return JSON.stringify(out);
}

/** The names to look headers up by: each as written, canonical, in other cases, compact letters, and absent ones. */
function lookupNames(buf: Buffer, m: SipMessage): string[] {
  const head = buf.toString('latin1', 0, Math.max(0, buf.indexOf('\r\n\r\n')));
  const written = [...head.matchAll(/^([^:\r\n]+):/gm)].map((x) => x[1]!.trim());
  const names = new Set([...written, ...m.headers.map((h) => h.name)]);
  for (const n of [...names]) names.add(n.toLowerCase()).add(n.toUpperCase());
  for (const n of ['v', 'F', 't', 'i', 'l', 'm', 'Contact', 'Route', 'Record-Route', 'X-Absent', 'Max-Forwards', 'Expires']) names.add(n);
  return [...names];
}

function scanned(s: MessageScan): Record<string, unknown> {
  return {
    isRequest: s.isRequest, status: s.status, method: s.isRequest ? s.method : '', branch: s.branch, cseqSeq: s.cseqSeq,
    cseqMethod: s.cseqMethod, callId: s.callId, fromTag: s.fromTag, toTag: s.toTag, bodyLength: s.bodyLength,
  };
}

/** Compares scanner and parser over the inputs; returns the disagreements and how many of each outcome. */
function differ(inputs: Buffer[], stream = false) {
  const scan = new MessageScan(); // one, reused: state must not leak from one message to the next
  const problems: string[] = [];
  const outcomes = { ok: 0, reject: 0, fallback: 0, accessorsCompared: 0 };
  for (const buf of inputs) {
    const outcome: ScanOutcome = scan.scan(buf, stream);
    outcomes[outcome]++;
    if (outcome === 'fallback') continue;
    const p = parsed(buf, stream);
    const shown = JSON.stringify(buf.toString('latin1').slice(0, 160));
    if (outcome === 'reject') {
      if ('fields' in p) problems.push(`scanner rejects, parser accepts: ${shown}`);
      continue;
    }
    if ('error' in p) problems.push(`scanner reads, parser refuses (${p.error}): ${shown}`);
    else if (JSON.stringify(scanned(scan)) !== JSON.stringify(p.fields)) {
      problems.push(`fields differ: scanner ${JSON.stringify(scanned(scan))} parser ${JSON.stringify(p.fields)}: ${shown}`);
    } else if (whole(scan.toMessage()) !== whole(parseMessage(buf, { stream }))) {
      problems.push(`messages differ: scanner ${whole(scan.toMessage())} parser ${whole(parseMessage(buf, { stream }))}`);
    } else {
      const reference = parseMessage(buf, { stream });
      const names = lookupNames(buf, reference);
      const view = accessors(scan.toMessage(), names);
      const full = accessors(reference, names);
      if (view !== full) problems.push(`accessors differ: scanner ${view} parser ${full}`);
      else outcomes.accessorsCompared++;
    }
  }
  return { problems, outcomes };
}

t.test('RFC 4475 torture messages: the scanner agrees with the parser', async (t) => {
  const inputs = corpus();
  for (const stream of [false, true]) {
    const { problems, outcomes } = differ(inputs, stream);
    t.same(problems, [], `${inputs.length} messages${stream ? ' as if framed off a stream' : ''}: ${JSON.stringify(outcomes)}`);
    t.ok(outcomes.ok > 0 && outcomes.reject > 0, 'the scanner itself reads some and rejects some');
    t.equal(outcomes.accessorsCompared, outcomes.ok, 'every accessor compared on every message the scanner reads');
  }
});

t.test('typical messages are read without the parser', async (t) => {
  const scan = new MessageScan();
  const ok = corpus().at(-2)!; // a 200 OK to an INVITE (test/support/fuzz.ts)
  t.equal(scan.scan(ok), 'ok');
  t.same(
    { status: scan.status, branch: scan.branch, seq: scan.cseqSeq, method: scan.cseqMethod, callId: scan.callId, from: scan.fromTag, to: scan.toTag, body: ok.subarray(scan.bodyStart, scan.bodyStart + scan.bodyLength).toString() },
    { status: 200, branch: 'z9hG4bK1', seq: 1, method: 'INVITE', callId: 'x@y', from: '1', to: '2', body: 'v=0\n' },
  );
  t.ok(scan.cseqMethodIs('INVITE') && !scan.cseqMethodIs('INVITF') && !scan.cseqMethodIs('BYE'), 'the CSeq method compares on the bytes');
  const compact = Buffer.from('SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP h;BRANCH = z9hG4bKx ;rport\r\nf: sip:a@b;TAG=x;tag=y\r\nt: Bob <sip:b@c>;tag\r\ni: c1\r\nCSeq: 7\tBYE\r\nl: 0\r\n\r\n');
  t.equal(scan.scan(compact), 'ok', 'compact forms, spaced parameters');
  t.same([scan.branch, scan.fromTag, scan.toTag, scan.cseqSeq, scan.cseqMethod], ['z9hG4bKx', 'y', undefined, 7, 'BYE']);
  t.equal(scan.scan(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=1\r\n\r\n')), 'fallback', 'a missing matching header is for the parser');
  t.equal(scan.scan(Buffer.from('SIP/2.0 2000 OK\r\n\r\n')), 'reject');
  const folded = Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z\r\nContent-Length:\r\n 0\r\nFrom: <sip:a>;tag=1\r\nTo: <sip:b>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n');
  t.equal(scan.scan(folded), 'fallback', 'a Content-Length whose value is on a folded line is the parser\'s (which reads 0)');
  t.equal(parseMessage(folded).get('Content-Length'), '0');
});

t.test('edges the parser reads its own way: folds, Unicode and control whitespace at every line end and value start', async (t) => {
  const inputs: Buffer[] = [];
  for (const m of corpus()) {
    const text = m.toString('latin1');
    const ends = [...text.matchAll(/\r\n/g)].map((x) => x.index!);
    const colons = [...text.matchAll(/:/g)].map((x) => x.index! + 1);
    for (const at of [...ends, ...colons]) {
      for (const ins of ['\r\n ', '\r\n\t', '\xc2\xa0', '\x0b', '\x0c', '\r', '\n', '\xef\xbb\xbf', ' ', '\t', '"', ',', ';tag=q', ';branch=b']) {
        inputs.push(Buffer.concat([m.subarray(0, at), Buffer.from(ins, 'latin1'), m.subarray(at)]));
      }
    }
  }
  const { problems, outcomes } = differ(inputs);
  t.same(problems.slice(0, 10), [], `${inputs.length} messages: ${JSON.stringify(outcomes)}`);
});

t.test(`${MUTATED} mutated messages: the scanner agrees with the parser`, async (t) => {
  const given = process.env.FUZZ_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) : Date.now() & 0x7fffffff;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`FUZZ_SEED must be a non-negative integer, got '${given}'`);
  t.comment(`fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npx tap dist/test/codec/scan.test.js)`);
  const rng = new Rng(seed);
  const base = corpus();
  const inputs = Array.from({ length: MUTATED }, () => mutate(base[rng.int(base.length)]!, rng));
  const { problems, outcomes } = differ(inputs);
  t.same(problems.slice(0, 10), [], `no disagreement (seed ${seed}): ${JSON.stringify(outcomes)}`);
  t.ok(outcomes.ok > 0 && outcomes.reject > 0, 'mutations the scanner reads and ones it rejects');
  t.equal(outcomes.accessorsCompared, outcomes.ok, 'every accessor compared on every message the scanner reads');
});
