// Synthesized link, network and transport headers around a SIP message, so
// that Wireshark and tshark dissect the run's own traffic as they would a
// capture from the wire: Ethernet II, IPv4 (RFC 791) or IPv6 (RFC 8200), UDP
// (RFC 768) or TCP (RFC 9293) with real checksums. TCP flows get a handshake
// at their first segment (with window scaling, RFC 7323 §2, so that a burst of
// messages never looks like a full window) and sequence numbers that follow
// the bytes each side sent, so tshark reassembles a message split over segments.

import { isIPv4 } from 'node:net';

const MAC_LOCAL = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
const MAC_REMOTE = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
/** Below the IPv4 total length limit with all headers: a longer message goes in several segments. */
export const MAX_SEGMENT = 65000;

const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

/** An IP literal as bytes: 4 for IPv4, 16 for IPv6 (an IPv4 address mapped when `v6` is asked). */
export function addressBytes(host: string, v6: boolean): Buffer {
  if (!v6 && isIPv4(host)) return Buffer.from(host.split('.').map(Number));
  const out = Buffer.alloc(16);
  if (isIPv4(host)) {
    out[10] = 0xff;
    out[11] = 0xff;
    Buffer.from(host.split('.').map(Number)).copy(out, 12);
    return out;
  }
  let text = host.replace(/%.*$/, '');
  // A trailing dotted quad (::ffff:127.0.0.1) becomes two groups.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const n = quad.slice(1).map(Number);
    text = text.slice(0, quad.index) + `${((n[0]! << 8) | n[1]!).toString(16)}:${((n[2]! << 8) | n[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

/** Is this pair of addresses written as IPv6 (either one is)? */
export function isV6Pair(a: string, b: string): boolean {
  return !isIPv4(a) || !isIPv4(b);
}

function sum16(buf: Buffer, start: number, end: number, acc: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) acc += buf[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

export interface Segment {
  src: Buffer;
  dst: Buffer;
  srcPort: number;
  dstPort: number;
  /** Which side sent it: our socket (local) or the peer. */
  fromLocal: boolean;
  tcp?: { seq: number; ack: number; flags: number; options?: Buffer };
  payload: Buffer;
}

let ipId = 0;

/** An Ethernet frame holding the segment. */
export function frame(s: Segment): Buffer {
  const v6 = s.src.length === 16;
  const l4Header = s.tcp ? 20 + (s.tcp.options?.length ?? 0) : 8;
  const l4Length = l4Header + s.payload.length;
  const ipHeader = v6 ? 40 : 20;
  const out = Buffer.alloc(14 + ipHeader + l4Header);
  (s.fromLocal ? MAC_REMOTE : MAC_LOCAL).copy(out, 0);
  (s.fromLocal ? MAC_LOCAL : MAC_REMOTE).copy(out, 6);
  out.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  const ip = 14;
  const proto = s.tcp ? 6 : 17;
  if (v6) {
    out.writeUInt32BE(0x60000000, ip);
    out.writeUInt16BE(l4Length, ip + 4);
    out[ip + 6] = proto;
    out[ip + 7] = 64;
    s.src.copy(out, ip + 8);
    s.dst.copy(out, ip + 24);
  } else {
    out[ip] = 0x45;
    out.writeUInt16BE(ipHeader + l4Length, ip + 2);
    out.writeUInt16BE((ipId = (ipId + 1) & 0xffff), ip + 4);
    out.writeUInt16BE(0x4000, ip + 6); // don't fragment
    out[ip + 8] = 64;
    out[ip + 9] = proto;
    s.src.copy(out, ip + 12);
    s.dst.copy(out, ip + 16);
    out.writeUInt16BE(fold(sum16(out, ip, ip + 20, 0)), ip + 10);
  }
  const l4 = ip + ipHeader;
  out.writeUInt16BE(s.srcPort, l4);
  out.writeUInt16BE(s.dstPort, l4 + 2);
  if (s.tcp) {
    out.writeUInt32BE(s.tcp.seq >>> 0, l4 + 4);
    out.writeUInt32BE(s.tcp.ack >>> 0, l4 + 8);
    out[l4 + 12] = (l4Header / 4) << 4;
    out[l4 + 13] = s.tcp.flags;
    out.writeUInt16BE(0xffff, l4 + 14);
    s.tcp.options?.copy(out, l4 + 20);
  } else out.writeUInt16BE(l4Length, l4 + 4);
  // The checksum over the pseudo-header (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1), the header and the payload.
  let acc = sum16(s.src, 0, s.src.length, 0) + sum16(s.dst, 0, s.dst.length, 0) + proto + l4Length;
  acc = sum16(out, l4, l4 + l4Header, acc);
  acc = sum16(s.payload, 0, s.payload.length, acc);
  let check = fold(acc);
  if (!s.tcp && check === 0) check = 0xffff; // UDP: zero means no checksum
  out.writeUInt16BE(check, l4 + (s.tcp ? 16 : 6));
  return Buffer.concat([out, s.payload]);
}

interface Flow {
  /** Next sequence number of each side. */
  localSeq: number;
  remoteSeq: number;
}

/** MSS 65495 (loopback's), window scale 14 and a NOP to align them, in the SYN and SYN-ACK. */
const SYN_OPTIONS = Buffer.from([2, 4, 0xff, 0xd7, 1, 3, 3, 14]);

/** The TCP flows of a capture, by their four addresses: what a message's segments are numbered from. */
export class TcpFlows {
  private readonly flows = new Map<string, Flow>();

  /**
   * The frames that carry `payload` from one side of the flow to the other: a handshake first when the flow is new
   * (opened by whoever speaks first), then the message in segments of at most MAX_SEGMENT bytes.
   */
  frames(fromLocal: boolean, local: Buffer, localPort: number, remote: Buffer, remotePort: number, payload: Buffer): Buffer[] {
    const key = `${local.toString('hex')}|${localPort}|${remote.toString('hex')}|${remotePort}`;
    const out: Buffer[] = [];
    const seg = (local2remote: boolean, seq: number, ack: number, flags: number, data: Buffer, options?: Buffer) =>
      frame({
        src: local2remote ? local : remote, dst: local2remote ? remote : local,
        srcPort: local2remote ? localPort : remotePort, dstPort: local2remote ? remotePort : localPort,
        fromLocal: local2remote, tcp: { seq, ack, flags, options }, payload: data,
      });
    let flow = this.flows.get(key);
    if (!flow) {
      flow = { localSeq: 1001, remoteSeq: 5001 };
      this.flows.set(key, flow);
      const [a, b] = fromLocal ? [flow.localSeq, flow.remoteSeq] : [flow.remoteSeq, flow.localSeq];
      out.push(seg(fromLocal, a - 1, 0, TCP_SYN, Buffer.alloc(0), SYN_OPTIONS));
      out.push(seg(!fromLocal, b - 1, a, TCP_SYN | TCP_ACK, Buffer.alloc(0), SYN_OPTIONS));
      out.push(seg(fromLocal, a, b, TCP_ACK, Buffer.alloc(0)));
    }
    for (let off = 0; off < payload.length || off === 0; off += MAX_SEGMENT) {
      const part = payload.subarray(off, off + MAX_SEGMENT);
      const seq = fromLocal ? flow.localSeq : flow.remoteSeq;
      const ack = fromLocal ? flow.remoteSeq : flow.localSeq;
      out.push(seg(fromLocal, seq, ack, TCP_PSH | TCP_ACK, part));
      if (fromLocal) flow.localSeq = (flow.localSeq + part.length) >>> 0;
      else flow.remoteSeq = (flow.remoteSeq + part.length) >>> 0;
      if (payload.length === 0) break;
    }
    return out;
  }
}
