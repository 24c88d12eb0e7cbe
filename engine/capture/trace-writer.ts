// The text trace of --trace and --trace-failed, like SIPp's -trace_msg: each
// message with its time (UTC, microseconds), direction, transport, local and
// remote address, then its text as it went on the wire (secrets already
// masked by the worker). A file cut at its cap ends with a line saying so.

import { closeSync, openSync, writeSync } from 'node:fs';
import { hostText } from '../codec/index.js';
import { Kind, type CaptureRecord } from './record.js';
import type { CaptureSink } from './sink.js';

const RULE = '-'.repeat(40);

function isoMicros(t: number): string {
  const ms = Math.floor(t);
  const micros = Math.floor((t - ms) * 1000);
  return new Date(ms).toISOString().replace('Z', `${String(micros).padStart(3, '0')}Z`);
}

function address(host: string, port: number): string {
  return `${hostText(host)}:${port}`;
}

/** The text of one record (the trace's unit; the cap is checked against it whole). */
export function traceEntry(r: CaptureRecord): string {
  if (r.kind === Kind.Note) return `${'='.repeat(40)} ${isoMicros(r.t)}\n${r.payload.toString('latin1')}\n\n`;
  const sent = r.kind === Kind.Sent;
  const from = address(r.localHost, r.localPort);
  const to = address(r.remoteHost, r.remotePort);
  const head = `${RULE} ${isoMicros(r.t)}\n${r.protocol.toUpperCase()} message ${sent ? 'sent' : 'received'}, ${r.payload.length} bytes, ${sent ? `${from} -> ${to}` : `${to} -> ${from}`}\n\n`;
  const body = r.payload.toString('latin1');
  return head + body + (body.endsWith('\n') ? '\n' : '\n\n');
}

export class TraceWriter implements CaptureSink {
  private readonly fd: number;
  private chunks: Buffer[] = [];
  private pending = 0;
  bytes = 0;
  messages = 0;
  truncated = false;
  notWritten = 0;

  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    this.fd = openSync(file, 'w');
  }

  add(r: CaptureRecord): void {
    if (r.kind !== Kind.Sent && r.kind !== Kind.Received && r.kind !== Kind.Note) return;
    if (this.truncated) {
      if (r.kind !== Kind.Note) this.notWritten++;
      return;
    }
    const b = Buffer.from(traceEntry(r), 'latin1');
    if (this.bytes + b.length > this.maxBytes) {
      this.truncated = true;
      if (r.kind !== Kind.Note) this.notWritten++;
      return;
    }
    this.push(b);
    if (r.kind !== Kind.Note) this.messages++;
  }

  close(notWrittenByWorkers: number, incompleteParts: number): void {
    const missing = this.notWritten + notWrittenByWorkers;
    // The closing lines are not counted against the cap: they say what the file misses.
    let end = missing > 0
      ? `${'='.repeat(40)}\nTRACE TRUNCATED at --trace-max-bytes ${this.maxBytes}: ${this.messages} messages written, ${missing} not written\n`
      : `${'='.repeat(40)}\nend of trace: ${this.messages} messages\n`;
    if (incompleteParts > 0) end += `INCOMPLETE: ${incompleteParts} worker${incompleteParts === 1 ? '' : 's'} did not finish (crashed or terminated): their last messages are missing\n`;
    this.flush();
    const b = Buffer.from(end, 'latin1');
    writeSync(this.fd, b);
    closeSync(this.fd);
  }

  private push(b: Buffer): void {
    this.chunks.push(b);
    this.pending += b.length;
    this.bytes += b.length;
    if (this.pending >= 256 * 1024) this.flush();
  }

  private flush(): void {
    if (this.pending === 0) return;
    const all = Buffer.concat(this.chunks);
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off, all.length - off);
    this.chunks = [];
    this.pending = 0;
  }
}
