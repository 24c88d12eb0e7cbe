// The capture part file: what one worker saw, as binary records in the order
// it saw them, written by the worker (recorder.ts) and merged by the
// coordinator's side into the trace and the pcapng (merge.ts). A record:
//   u32 length of the rest | f64 epoch ms | u8 kind | u8 protocol |
//   u16 local port | u16 remote port | u8 local host length | u8 remote host length |
//   local host | remote host | payload
// Little-endian. Hosts are the socket's own text (an IP literal).

import { closeSync, openSync, readSync } from 'node:fs';
import type { Protocol } from '../transport/index.js';

export const enum Kind {
  Sent = 0,
  Received = 1,
  /** A line of text for the trace (a failed instance's header); no packet. */
  Note = 2,
  /** The worker's last record: how many messages its own cap kept out (u32 messages, f64 bytes). */
  Trailer = 255,
}

export const PROTOCOLS: Protocol[] = ['udp', 'tcp', 'tls'];
const FIXED = 4 + 8 + 1 + 1 + 2 + 2 + 1 + 1;

export interface CaptureRecord {
  /** Epoch milliseconds, with the fraction (microseconds count in the pcapng). */
  t: number;
  kind: Kind;
  protocol: Protocol;
  localHost: string;
  localPort: number;
  remoteHost: string;
  remotePort: number;
  payload: Buffer;
}

/** The bytes a record takes in a part file. */
export function recordSize(localHost: string, remoteHost: string, payloadLength: number): number {
  return FIXED + localHost.length + remoteHost.length + payloadLength;
}

/** Writes one record at `at` in `out` (sized by recordSize); returns the offset after it. */
export function encodeRecord(out: Buffer, at: number, t: number, kind: Kind, protocol: Protocol, localHost: string, localPort: number, remoteHost: string, remotePort: number, payload: Buffer): number {
  const size = recordSize(localHost, remoteHost, payload.length);
  out.writeUInt32LE(size - 4, at);
  out.writeDoubleLE(t, at + 4);
  out[at + 12] = kind;
  out[at + 13] = PROTOCOLS.indexOf(protocol);
  out.writeUInt16LE(localPort, at + 14);
  out.writeUInt16LE(remotePort, at + 16);
  out[at + 18] = localHost.length;
  out[at + 19] = remoteHost.length;
  let p = at + FIXED;
  p += out.write(localHost, p, 'latin1');
  p += out.write(remoteHost, p, 'latin1');
  out.set(payload, p);
  return at + size;
}

/** Reads a part file record by record through a bounded buffer (a part may be far larger than memory should hold). */
export class PartReader {
  private readonly fd: number;
  private buf = Buffer.alloc(1 << 20);
  private start = 0;
  private end = 0;
  private eof = false;
  /** A record cut short: the worker died mid-write (a crash); what came before it is kept. */
  truncated = false;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'r');
  }

  next(): CaptureRecord | undefined {
    if (!this.fill(4)) return undefined;
    const len = this.buf.readUInt32LE(this.start);
    if (!this.fill(4 + len)) {
      this.truncated = this.end > this.start;
      return undefined;
    }
    const b = this.buf;
    const at = this.start;
    const lhLen = b[at + 18]!;
    const rhLen = b[at + 19]!;
    const hosts = at + FIXED;
    const rec: CaptureRecord = {
      t: b.readDoubleLE(at + 4),
      kind: b[at + 12] as Kind,
      protocol: PROTOCOLS[b[at + 13]!] ?? 'udp',
      localPort: b.readUInt16LE(at + 14),
      remotePort: b.readUInt16LE(at + 16),
      localHost: b.toString('latin1', hosts, hosts + lhLen),
      remoteHost: b.toString('latin1', hosts + lhLen, hosts + lhLen + rhLen),
      // A copy: the buffer is reused by the next read.
      payload: Buffer.from(b.subarray(hosts + lhLen + rhLen, at + 4 + len)),
    };
    this.start += 4 + len;
    return rec;
  }

  close(): void {
    closeSync(this.fd);
  }

  /** At least `n` bytes from `start` in the buffer, or false at the end of the file. */
  private fill(n: number): boolean {
    while (this.end - this.start < n) {
      if (this.eof) return false;
      if (this.start > 0) {
        this.buf.copy(this.buf, 0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (n > this.buf.length) {
        const bigger = Buffer.alloc(Math.max(n, this.buf.length * 2));
        this.buf.copy(bigger, 0, 0, this.end);
        this.buf = bigger;
      }
      const got = readSync(this.fd, this.buf, this.end, this.buf.length - this.end, null);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return true;
  }
}
