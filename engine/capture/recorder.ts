// A worker's side of --trace, --trace-failed and --pcap: every message its
// sockets send and receive (the transport's tap), masked, appended to the
// worker's part file; and the messages of each failed instance to a second
// part. Records collect in a 256 KiB buffer written with one write when full,
// so a message costs a copy, not a system call. Each part stops growing at the
// run's cap (its payloads alone would fill the merged file), counting what it
// keeps out, which the last record (the trailer) tells the merge.

import { closeSync, openSync, writeSync, appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { Protocol, TransportTap } from '../transport/index.js';
import { encodeRecord, Kind, recordSize } from './record.js';

/** What a worker is told to record (plain data: it crosses to the worker thread). */
export interface WorkerCapture {
  /** The folder of the part files (one run's, removed after the merge). */
  dir: string;
  /** Every message (--trace or --pcap): its cap in payload bytes. */
  allMaxBytes?: number;
  /** The messages of failed instances (--trace-failed): its cap in payload bytes. */
  failedMaxBytes?: number;
  /** --tls-keylog: the file the key lines are appended to. */
  keylogFile?: string;
}

/** Masks the secrets in a message's text (the worker's redaction, which knows its passwords). */
export type Mask = (text: string) => string;

const CHUNK = 256 * 1024;

/** One part file, written through a buffer, capped by payload bytes. */
class PartFile {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private payloadBytes = 0;
  notWritten = 0;
  notWrittenBytes = 0;

  constructor(
    file: string,
    private readonly maxBytes: number,
  ) {
    this.fd = openSync(file, 'w');
  }

  add(t: number, kind: Kind, protocol: Protocol, localHost: string, localPort: number, remoteHost: string, remotePort: number, payload: Buffer): void {
    if (kind !== Kind.Note && this.payloadBytes + payload.length > this.maxBytes) {
      this.notWritten++;
      this.notWrittenBytes += payload.length;
      return;
    }
    this.payloadBytes += payload.length;
    const size = recordSize(localHost, remoteHost, payload.length);
    if (this.used + size > this.buf.length) {
      this.flush();
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size);
    }
    this.used = encodeRecord(this.buf, this.used, t, kind, protocol, localHost, localPort, remoteHost, remotePort, payload);
  }

  close(): void {
    const trailer = Buffer.alloc(12);
    trailer.writeUInt32LE(this.notWritten, 0);
    trailer.writeDoubleLE(this.notWrittenBytes, 4);
    this.add(0, Kind.Trailer, 'udp', '', 0, '', 0, trailer);
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }
}

/** Epoch milliseconds with microseconds, comparable across threads (each has its own performance origin). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export class CaptureRecorder {
  private readonly all?: PartFile;
  private readonly failed?: PartFile;
  private closed = false;
  /** Hand this to the transports: it records every message they send and receive. */
  readonly tap?: TransportTap;
  readonly keylog?: (line: Buffer) => void;

  constructor(
    cfg: WorkerCapture,
    private readonly mask: Mask,
  ) {
    const name = `${threadId}-${randomBytes(4).toString('hex')}`;
    if (cfg.allMaxBytes !== undefined) {
      const all = (this.all = new PartFile(join(cfg.dir, `${name}.all`), cfg.allMaxBytes));
      this.tap = {
        message: (received, protocol, data, localHost, localPort, remoteHost, remotePort) => {
          if (this.closed) return;
          all.add(epochNow(), received ? Kind.Received : Kind.Sent, protocol, localHost, localPort, remoteHost, remotePort, this.masked(data));
        },
      };
    }
    if (cfg.failedMaxBytes !== undefined) this.failed = new PartFile(join(cfg.dir, `${name}.failed`), cfg.failedMaxBytes);
    const keylogFile = cfg.keylogFile;
    if (keylogFile) this.keylog = (line) => appendFileSync(keylogFile, line);
  }

  /**
   * A failed instance's messages (--trace-failed): a header line saying whose and why, then each message at its
   * time. `messages` are what its steps sent and received (retransmissions are the transaction layer's: in --trace).
   */
  failedInstance(header: string, protocol: Protocol, localHost: string, localPort: number, remoteHost: string, remotePort: number, messages: { t: number; received: boolean; data: Buffer }[]): void {
    const part = this.failed;
    if (!part || this.closed) return;
    // The header is timed at the failure: the merge orders the instances by it and keeps each one's messages together.
    part.add(epochNow(), Kind.Note, protocol, localHost, localPort, remoteHost, remotePort, Buffer.from(this.mask(header), 'latin1'));
    for (const m of messages) part.add(m.t, m.received ? Kind.Received : Kind.Sent, protocol, localHost, localPort, remoteHost, remotePort, this.masked(m.data));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.all?.close();
    this.failed?.close();
  }

  /** The message with its secrets masked; the same Buffer when there were none. */
  private masked(data: Buffer): Buffer {
    const text = data.toString('latin1');
    const out = this.mask(text);
    return out === text ? data : Buffer.from(out, 'latin1');
  }
}
