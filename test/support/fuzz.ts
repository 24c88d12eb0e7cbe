// Parser fuzzing: mutations of the RFC 4475 torture messages and of typical
// messages (byte flips, truncation, duplication, header insertion, splices).
// Every input must parse, or fail with the codec's own SipParseError; anything
// else thrown is a finding. Used by a bounded test and by `npm run fuzz`.

import { readFileSync, readdirSync } from 'node:fs';
import { parseMessage, validateMessage, SipParseError, StreamFramer } from '../../engine/codec/index.js';

const fixtures = new URL('../../../test/fixtures/rfc4475/', import.meta.url);

export function corpus(): Buffer[] {
  const out = readdirSync(fixtures).filter((f) => f.endsWith('.dat')).map((f) => readFileSync(new URL(f, fixtures)));
  out.push(
    Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport=5060;received=10.0.0.1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x@y\r\nCSeq: 1 INVITE\r\nContact: <sip:c@10.0.0.2:5070>\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n'),
    Buffer.from('REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKr\r\nMax-Forwards: 70\r\nFrom: "A \\"q\\"" <sip:a@example.com>;tag=9\r\nTo: sip:a@example.com\r\nCall-ID: r@h\r\nCSeq: 2 REGISTER\r\nContact: <sip:a@[2001:db8::1]:5060;transport=tcp>;expires=60;q=0.5, *\r\nAuthorization: Digest username="a", realm="r", nonce="n", uri="sip:example.com", response="00"\r\nl: 0\r\n\r\n'),
  );
  return out;
}

export class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s * 1103515245 + 12345) & 0x7fffffff;
    return this.s / 0x7fffffff;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

const INSERTS = ['\r\n', ' ', ';', ',', ':', '<', '>', '"', '\\', '%00', '\x00', '\t', '\r\n ', 'Content-Length: 99999999999\r\n', 'Via: SIP/2.0/UDP\r\n', 'CSeq: -1 X\r\n', 'To: <sip:\r\n', '@', '[', ']', 'z9hG4bK', '\u00ff', '\r\n\r\n'];

export function mutate(input: Buffer, rng: Rng): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const at = rng.int(b.length + 1);
    switch (rng.int(6)) {
      case 0: // byte flip
        if (b.length) b[rng.int(b.length)] = rng.int(256);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: { // duplicate a slice
        const len = rng.int(64);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 3: { // insert something grammar-relevant
        const ins = Buffer.from(INSERTS[rng.int(INSERTS.length)]!, 'latin1');
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 4: { // delete a slice
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + rng.int(32))]);
        break;
      }
      default: { // repeat a header line
        const text = b.toString('latin1');
        const lines = text.split('\r\n');
        if (lines.length > 2) {
          const i = 1 + rng.int(lines.length - 2);
          lines.splice(i, 0, lines[i]!);
          b = Buffer.from(lines.join('\r\n'), 'latin1');
        }
      }
    }
  }
  return b;
}

/** Parses one input the ways the engine does; returns the unexpected error, if any. */
export function exercise(input: Buffer): unknown {
  try {
    const m = parseMessage(input);
    try {
      validateMessage(m);
    } catch (err) {
      if (!(err instanceof SipParseError)) return err;
    }
    // The lazy accessors the hot path uses.
    for (const f of [() => m.topVia(), () => m.topBranch(), () => m.cseq(), () => m.callId(), () => m.from(), () => m.to(), () => m.contacts(), () => m.expires(), () => m.maxForwards()]) {
      try {
        f();
      } catch (err) {
        if (!(err instanceof SipParseError)) return err;
      }
    }
  } catch (err) {
    if (!(err instanceof SipParseError)) return err;
  }
  try {
    new StreamFramer({ maxHeaderBytes: 4096, maxBodyBytes: 4096 }).push(input);
  } catch (err) {
    if (!(err instanceof SipParseError)) return err;
  }
  return undefined;
}

export interface FuzzReport {
  inputs: number;
  seconds: number;
  findings: { input: Buffer; error: string }[];
}

export function fuzz(opts: { seconds?: number; maxInputs?: number; seed?: number }): FuzzReport {
  const seeds = corpus();
  const rng = new Rng(opts.seed ?? 1);
  const start = Date.now();
  const deadline = start + (opts.seconds ?? 3) * 1000;
  const findings: FuzzReport['findings'] = [];
  let inputs = 0;
  while (inputs < (opts.maxInputs ?? Infinity)) {
    if ((inputs & 255) === 0 && Date.now() >= deadline) break;
    const input = mutate(seeds[rng.int(seeds.length)]!, rng);
    inputs++;
    const err = exercise(input);
    if (err !== undefined && findings.length < 20) findings.push({ input, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
  return { inputs, seconds: (Date.now() - start) / 1000, findings };
}
