// The pcapng file of --pcap (draft-ietf-opsawg-pcapng): a Section Header
// Block, one Ethernet interface, and an Enhanced Packet Block per frame with
// microsecond timestamps. The section's comment says whether the capture is
// whole or was cut at its size cap: it is written first with room to spare and
// filled in at the end (the file is ours to seek in). TLS messages are written
// decrypted, as TCP, each with a comment saying so.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { CaptureRecord } from './record.js';
import { Kind } from './record.js';
import { addressBytes, frame, isV6Pair, TcpFlows } from './packets.js';
import type { CaptureSink } from './sink.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const LINKTYPE_ETHERNET = 1;
const OPT_COMMENT = 1;
/** Room for the section comment, filled in with spaces. */
const COMMENT_ROOM = 200;
const TLS_COMMENT = Buffer.from('sipstorm: TLS, written decrypted (the SIP message as sent or received inside the TLS connection)');

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function option(code: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + pad4(value.length));
  out.writeUInt16LE(code, 0);
  out.writeUInt16LE(value.length, 2);
  value.copy(out, 4);
  return out;
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  const out = Buffer.alloc(total);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(total, 4);
  body.copy(out, 8);
  out.writeUInt32LE(total, total - 4);
  return out;
}

export class PcapngWriter implements CaptureSink {
  private readonly fd: number;
  private readonly flows = new TcpFlows();
  private commentAt = 0;
  /** Blocks not yet written: one write per 256 KiB. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  bytes = 0;
  messages = 0;
  truncated = false;
  notWritten = 0;

  constructor(
    readonly file: string,
    readonly maxBytes: number,
  ) {
    this.fd = openSync(file, 'w');
    const head = Buffer.alloc(16);
    head.writeUInt32LE(0x1a2b3c4d, 0); // byte-order magic
    head.writeUInt16LE(1, 4);
    head.writeUInt16LE(0, 6);
    head.writeBigInt64LE(-1n, 8); // section length not given
    const comment = option(OPT_COMMENT, Buffer.alloc(COMMENT_ROOM, ' '));
    this.commentAt = 8 + head.length + 4;
    this.write(block(SHB, Buffer.concat([head, comment, Buffer.alloc(4)])));
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(LINKTYPE_ETHERNET, 0);
    idb.writeUInt32LE(0, 4); // no snap length limit
    this.write(block(IDB, Buffer.concat([idb, option(2, Buffer.from('sipstorm')), Buffer.alloc(4)])));
  }

  add(r: CaptureRecord): void {
    if (r.kind !== Kind.Sent && r.kind !== Kind.Received) return;
    if (this.truncated) {
      this.notWritten++;
      return;
    }
    const fromLocal = r.kind === Kind.Sent;
    const v6 = isV6Pair(r.localHost, r.remoteHost);
    const local = addressBytes(r.localHost, v6);
    const remote = addressBytes(r.remoteHost, v6);
    const frames =
      r.protocol === 'udp'
        ? [frame({ src: fromLocal ? local : remote, dst: fromLocal ? remote : local, srcPort: fromLocal ? r.localPort : r.remotePort, dstPort: fromLocal ? r.remotePort : r.localPort, fromLocal, payload: r.payload })]
        : this.flows.frames(fromLocal, local, r.localPort, remote, r.remotePort, r.payload);
    const us = Math.round(r.t * 1000);
    const blocks = frames.map((f) => this.epb(f, us, r.protocol === 'tls' ? TLS_COMMENT : undefined));
    const size = blocks.reduce((a, b) => a + b.length, 0);
    if (this.bytes + size > this.maxBytes) {
      this.truncated = true;
      this.notWritten++;
      return;
    }
    for (const b of blocks) this.write(b);
    this.messages++;
  }

  /** Fills in the section comment: whole, or cut at the cap with how many messages are missing. */
  close(notWrittenByWorkers: number, incompleteParts: number): void {
    const missing = this.notWritten + notWrittenByWorkers;
    let text =
      missing > 0
        ? `sipstorm --pcap: TRUNCATED at --pcap-max-bytes ${this.maxBytes}: ${this.messages} messages written, ${missing} not written`
        : `sipstorm --pcap: ${this.messages} messages, ${incompleteParts > 0 ? 'INCOMPLETE' : 'complete'}`;
    if (incompleteParts > 0) text += `; ${incompleteParts} worker(s) did not finish: their last messages are missing`;
    const room = Buffer.alloc(COMMENT_ROOM, ' ');
    room.write(text.slice(0, COMMENT_ROOM), 'latin1');
    this.flush();
    writeSync(this.fd, room, 0, room.length, this.commentAt);
    closeSync(this.fd);
  }

  private epb(data: Buffer, us: number, comment?: Buffer): Buffer {
    const head = Buffer.alloc(20);
    head.writeUInt32LE(0, 0); // interface 0
    head.writeUInt32LE(Math.floor(us / 0x100000000), 4);
    head.writeUInt32LE(us % 0x100000000, 8);
    head.writeUInt32LE(data.length, 12);
    head.writeUInt32LE(data.length, 16);
    const parts = [head, data, Buffer.alloc(pad4(data.length) - data.length)];
    if (comment) parts.push(option(OPT_COMMENT, comment), Buffer.alloc(4));
    return block(EPB, Buffer.concat(parts));
  }

  private write(b: Buffer): void {
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.bytes += b.length;
    if (this.pendingBytes >= 256 * 1024) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const all = Buffer.concat(this.pending, this.pendingBytes);
    let off = 0;
    while (off < all.length) off += writeSync(this.fd, all, off, all.length - off);
    this.pending = [];
    this.pendingBytes = 0;
  }
}
