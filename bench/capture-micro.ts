// The per-message cost of a capture, without the network (npm run build &&
// node dist/bench/capture-micro.js): a worker's tap (mask, encode, buffered
// write to its part file) on a typical INVITE, with and without a digest
// Authorization to mask; then the merge of two workers' parts into the text
// trace and into the pcapng, over UDP and TCP. Median of 5 rounds, CPU time of
// this process (process.cpuUsage). Not a test: numbers vary with the machine.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureRecorder } from '../engine/capture/recorder.js';
import { CaptureSession } from '../engine/capture/session.js';
import { redact } from '../engine/ua/redact.js';

const N = Number(process.env.CAPTURE_MICRO_MESSAGES ?? 200_000);
const INVITE = Buffer.from(
  'INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKdb2c47d116763;rport\r\nMax-Forwards: 70\r\n' +
    'From: <sip:user1@127.0.0.1:5060>;tag=db2c471\r\nTo: <sip:service@127.0.0.1:5060>\r\nCall-ID: db2c47d116762@127.0.0.1\r\nCSeq: 1 INVITE\r\n' +
    'Contact: <sip:user1@127.0.0.1:40000>\r\nContent-Type: application/sdp\r\nUser-Agent: sipstorm\r\nContent-Length: 120\r\n\r\n' +
    'v=0\r\no=user1 1 1 IN IP4 127.0.0.1\r\ns=sipstorm\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n',
);
const AUTHORIZED = Buffer.from(INVITE.toString('latin1').replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\r\nAuthorization: Digest username="user1", realm="sipstorm", nonce="abcdef0123456789", uri="sip:service@127.0.0.1:5060", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001\r\n'), 'latin1');

function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mask = (text: string) => redact(text, ['Wr0ngPassw0rd']);

function tapRound(message: Buffer): number {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-micro-'));
  try {
    const rec = new CaptureRecorder({ dir, allMaxBytes: 1e12 }, mask);
    const ms = cpuMs(() => {
      for (let i = 0; i < N; i++) rec.tap!.message(i % 2 === 1, 'udp', message, '127.0.0.1', 40000, '127.0.0.1', 5060);
      rec.close();
    });
    return (ms * 1e6) / N; // ns per message
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function mergeRound(protocol: 'udp' | 'tcp', kind: 'trace' | 'pcap'): number {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-micro-'));
  try {
    const out = join(dir, kind === 'trace' ? 'trace.txt' : 'run.pcapng');
    const session = new CaptureSession(kind === 'trace' ? { trace: out, traceMaxBytes: 1e12 } : { pcap: out, pcapMaxBytes: 1e12 });
    const w = session.worker();
    // Two workers' parts (two recorders of this thread), interleaved in time.
    const parts = [new CaptureRecorder(w, mask), new CaptureRecorder(w, mask)];
    for (let i = 0; i < N; i++) parts[i % 2]!.tap!.message(false, protocol, INVITE, '127.0.0.1', 40000 + (i % 2), '127.0.0.1', 5060);
    for (const p of parts) p.close();
    const ms = cpuMs(() => session.finish());
    return (ms * 1e6) / N;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rounds = (f: () => number) => median(Array.from({ length: 5 }, f));
console.log(`${N} messages of ${INVITE.length} bytes, median of 5, CPU ns per message`);
console.log(`| step | ns per message |\n|---|---:|`);
console.log(`| worker tap, nothing to mask | ${Math.round(rounds(() => tapRound(INVITE)))} |`);
console.log(`| worker tap, digest Authorization masked | ${Math.round(rounds(() => tapRound(AUTHORIZED)))} |`);
console.log(`| merge into the trace | ${Math.round(rounds(() => mergeRound('udp', 'trace')))} |`);
console.log(`| merge into the pcapng, UDP | ${Math.round(rounds(() => mergeRound('udp', 'pcap')))} |`);
console.log(`| merge into the pcapng, TCP | ${Math.round(rounds(() => mergeRound('tcp', 'pcap')))} |`);
