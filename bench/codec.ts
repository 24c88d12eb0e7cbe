// Micro-benchmark of the codec (npm run bench:codec): parse (with the fields a
// transaction needs: top Via branch, CSeq, Call-ID, From/To tags) and
// serialize, for a typical INVITE with SDP and a 200 OK to it; and the byte
// scanner (MessageScan) reading the same fields. Prints the median of several
// timed rounds after a warm-up, and the JS heap allocated per message (the
// median of 9 runs of 2,000 calls, each after a collection, what a call
// returns kept as a real path keeps it). Then the send side: scenarios/
// uac-call.yaml's INVITE written by its byte template (engine/ua/send-template.ts)
// against the header builder and serializeMessage it replaced, and the heap
// each takes per request against the size of the request's own Buffer; and the
// two goals, printed: at most 0.5 KB of JS heap per received message, at most
// one Buffer of its own size per sent request. Not a test: numbers vary with
// the machine.

import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MessageScan, parseMessage, serializeMessage, WireWriter } from '../engine/codec/index.js';
import { recordInts } from '../engine/codec/scanned-message.js';
import { loadScenarioFile, type SendStep, type TemplateVars } from '../engine/scenario/index.js';
import { buildRequestMessage, SendTemplate, type RequestParts } from '../engine/ua/send-template.js';

const INVITE = Buffer.from(
  [
    'INVITE sip:service@192.0.2.10:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-2817-1-0;rport',
    'Max-Forwards: 70',
    'From: "sipstorm" <sip:user1@192.0.2.1:5061>;tag=2817SIPpTag001',
    'To: <sip:service@192.0.2.10:5060>',
    'Call-ID: 1-2817@192.0.2.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:user1@192.0.2.1:5061>',
    'Subject: Performance Test',
    'User-Agent: sipstorm',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE',
    'Content-Type: application/sdp',
    'Content-Length: 129',
    '',
    'v=0\r\no=user1 53655765 2353687637 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n',
  ].join('\r\n'),
);
const OK = Buffer.from(
  [
    'SIP/2.0 200 OK',
    'Via: SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK-2817-1-0;rport=5061;received=192.0.2.1',
    'From: "sipstorm" <sip:user1@192.0.2.1:5061>;tag=2817SIPpTag001',
    'To: <sip:service@192.0.2.10:5060>;tag=8831SIPpTag011',
    'Call-ID: 1-2817@192.0.2.1',
    'CSeq: 1 INVITE',
    'Contact: <sip:service@192.0.2.10:5060>',
    'Content-Type: application/sdp',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

// The collector on call, without asking for --expose-gc on the command line: a collection before each heap sample.
v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * What a call returns is kept in a ring, as a receive or send path hands its message on: a result that never leaves
 * the loop could be optimized away (escape analysis) and its heap not counted at all.
 */
const kept: unknown[] = new Array(256).fill(null);
let keptAt = 0;

/** JS heap allocated per call: heap growth over a run short enough that no collection happens in it. */
function heapPerCall(fn: () => unknown): number {
  const samples: number[] = [];
  for (let r = 0; r < 9; r++) {
    gc();
    const n = 2_000;
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < n; i++) kept[keptAt++ & 255] = fn();
    const grown = process.memoryUsage().heapUsed - before;
    if (grown >= 0) samples.push(grown / n); // a collection in the middle makes it negative: not a sample
  }
  samples.sort((a, b) => a - b);
  return samples.length ? samples[Math.floor(samples.length / 2)]! : NaN;
}

function measure(label: string, bytes: number, fn: () => unknown): number {
  const rounds: number[] = [];
  for (let i = 0; i < 20_000; i++) fn(); // warm-up
  for (let r = 0; r < 7; r++) {
    const n = 50_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const ns = Number(process.hrtime.bigint() - start);
    rounds.push((n * 1e9) / ns);
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[Math.floor(rounds.length / 2)]!;
  const heap = heapPerCall(fn);
  console.log(
    `${label.padEnd(28)} ${Math.round(median).toLocaleString('en-US').padStart(12)} msg/s ${((median * bytes) / 1e6).toFixed(1).padStart(8)} MB/s ${Math.round(heap).toLocaleString('en-US').padStart(8)} heap B/msg`,
  );
  return heap;
}

let sink = 0;
const parseHot = (buf: Buffer) => () => {
  const m = parseMessage(buf);
  sink += m.topVia().branch!.length + m.cseq().seq + m.callId().length + (m.from().tag?.length ?? 0) + (m.to().tag?.length ?? 0);
  return m;
};
// The same fields off the bytes: one scanner, reused, as a receive path would keep it.
const scan = new MessageScan();
const scanHot = (buf: Buffer) => () => {
  if (scan.scan(buf) !== 'ok') throw new Error('the benchmark message must be one the scanner reads');
  sink += scan.branch.length + scan.cseqSeq + scan.callId.length + (scan.fromTag?.length ?? 0) + (scan.toTag?.length ?? 0) + (scan.cseqMethodIs('INVITE') ? 1 : 0);
};
console.log(`sipstorm codec benchmark, node ${process.version}, ${new Date().toISOString()}`);
measure('parse INVITE (with SDP)', INVITE.length, parseHot(INVITE));
measure('parse 200 OK', OK.length, parseHot(OK));
// The same INVITE with bare LF line ends in its head (RFC 3261 §7 wants CRLF; read liberally, off the hot path).
const cut = INVITE.indexOf('\r\n\r\n');
const INVITE_LF = Buffer.concat([Buffer.from(INVITE.toString('latin1', 0, cut).replace(/\r\n/g, '\n') + '\n\n', 'latin1'), INVITE.subarray(cut + 4)]);
measure('parse INVITE (bare LF)', INVITE_LF.length, parseHot(INVITE_LF));
measure('scan INVITE (with SDP)', INVITE.length, scanHot(INVITE));
measure('scan 200 OK', OK.length, scanHot(OK));
// What the UDP receive path does with it: the message built from the scan's index, then read as after a parse.
const scanToMessage = (buf: Buffer) => () => {
  if (scan.scan(buf) !== 'ok') throw new Error('the benchmark message must be one the scanner reads');
  const m = scan.toMessage();
  sink += m.topBranch().length + m.cseq().seq + m.callId().length + (m.from().tag?.length ?? 0) + (m.to().tag?.length ?? 0);
  return m;
};
measure('scan+toMessage INVITE', INVITE.length, scanToMessage(INVITE));
const received = measure('scan+toMessage 200 OK', OK.length, scanToMessage(OK));
const inv = parseMessage(INVITE);
const ok = parseMessage(OK);
measure('serialize INVITE', INVITE.length, () => serializeMessage(inv));
measure('serialize 200 OK', OK.length, () => serializeMessage(ok));

// The send side: the INVITE of scenarios/uac-call.yaml, its values as a worker fills them (a new branch, CSeq).
const root = new URL('../../', import.meta.url).pathname;
const inviteStep = loadScenarioFile(`${root}scenarios/uac-call.yaml`).roles[0]!.steps.find((s): s is SendStep => s.kind === 'send' && s.method === 'INVITE')!;
const vars: TemplateVars = {
  lookup: (name) => (name === 'user' ? 'user1' : name === 'local.host' ? '192.0.2.1' : name === 'target.host' ? '192.0.2.10' : name === 'target.port' ? '5060' : undefined),
};
let seq = 0;
const parts = (): RequestParts => ({
  uri: 'sip:service@192.0.2.10:5060', from: '<sip:user1@192.0.2.10:5060>;tag=2817abc1', to: '<sip:service@192.0.2.10:5060>', callId: '7f3a9c2e41d0b1@192.0.2.1',
  cseq: ++seq, via: `SIP/2.0/UDP 192.0.2.1:5061;branch=z9hG4bK7f3a9c2e41d0${seq.toString(36)};rport`, contact: '<sip:user1@192.0.2.1:5061>', routes: [],
});
const template = SendTemplate.compile(inviteStep, false);
const writer = new WireWriter();
const inviteSize = template.write(writer, parts(), vars).wire!.length;
// What a send costs beyond the values the UA makes either way (branch, Via): the message and its bytes.
const fixed = parts();
const built = measure('build+serialize INVITE', inviteSize, () => serializeMessage(buildRequestMessage(inviteStep, false, fixed, vars)));
const written = measure('template INVITE', inviteSize, () => template.write(writer, fixed, vars));
// Off the JS heap, and not in the figures: a received message's index record in the shared Int32 pool
// (engine/codec/scanned-message.ts) and a sent request's bytes in the writer's slab (engine/codec/sent-request.ts).
scan.scan(OK);
const record = Int32Array.BYTES_PER_ELEMENT * recordInts(scan.headerCount);
console.log(`\nreceived 200 OK (${OK.length} B): ${Math.round(received)} B of JS heap per message, fields read (goal at most 512 B): ${received <= 512 ? 'met' : 'not met'}; off the heap, its ${record}-byte index record in a shared pool`);
console.log(`sent INVITE (${inviteSize} B): ${Math.round(written)} B of JS heap per request, written by its template (goal at most its own size, ${inviteSize} B): ${written <= inviteSize ? 'met' : 'not met'}; off the heap, its ${inviteSize} bytes in the writer's slab (the builder: ${Math.round(built)} B of heap, ${(built / written).toFixed(1)}x)`);
if (sink === 0) console.log('');
