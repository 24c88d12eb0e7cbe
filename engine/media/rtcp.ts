// RTCP (RFC 3550 §6): the compound packet a stream sends every 5 s, a sender
// report (§6.4.1, or a receiver report §6.4.2 when it sent nothing) with one
// report block on what it received, and an SDES CNAME (§6.5.1); and the
// reading of the peer's reports: the round trip of §6.4.1 (A = arrival,
// RTT = A - LSR - DLSR) for the E-model's delay.

import type { RtpReceiver } from './rtp-stream.js';

/** Seconds from 1900 (NTP) to 1970 (Unix). */
const NTP_OFFSET = 2208988800;

/** The middle 32 bits of an NTP timestamp of a Unix time in ms (§4, what LSR carries). */
export function ntpMiddle(unixMs: number): number {
  const secs = Math.floor(unixMs / 1000) + NTP_OFFSET;
  const frac = Math.floor(((unixMs % 1000) / 1000) * 65536);
  return ((secs & 0xffff) * 65536 + frac) >>> 0;
}

/** What a stream keeps for its next report block (the "prior" counts of A.3, and the last SR heard). */
export interface ReportState {
  expectedPrior: number;
  receivedPrior: number;
  /** Middle 32 bits of the last SR's NTP timestamp, and when it came (Unix ms); 0 when none. */
  lastSr: number;
  lastSrAt: number;
}

export interface SenderCounts {
  ssrc: number;
  packets: number;
  octets: number;
  rtpTs: number;
}

/** Writes the compound packet at buf[0]; returns its length. */
export function writeReport(buf: Buffer, s: SenderCounts, r: RtpReceiver, st: ReportState, nowUnixMs: number, cname: string): number {
  const withBlock = r.ssrc !== -1;
  const sr = s.packets > 0;
  let off = 0;
  const words = (sr ? 6 : 1) + (withBlock ? 6 : 0);
  buf[0] = 0x80 | (withBlock ? 1 : 0);
  buf[1] = sr ? 200 : 201;
  buf.writeUInt16BE(words, 2);
  buf.writeUInt32BE(s.ssrc >>> 0, 4);
  off = 8;
  if (sr) {
    const secs = Math.floor(nowUnixMs / 1000) + NTP_OFFSET;
    buf.writeUInt32BE(secs >>> 0, off);
    buf.writeUInt32BE(Math.floor(((nowUnixMs % 1000) / 1000) * 4294967296) >>> 0, off + 4);
    buf.writeUInt32BE(s.rtpTs >>> 0, off + 8);
    buf.writeUInt32BE(s.packets >>> 0, off + 12);
    buf.writeUInt32BE(s.octets >>> 0, off + 16);
    off += 20;
  }
  if (withBlock) {
    // A.3: fraction lost in the interval since the last report, cumulative lost (24 bits, clamped).
    const expected = r.expected;
    const expectedInterval = expected - st.expectedPrior;
    const receivedInterval = r.received - st.receivedPrior;
    st.expectedPrior = expected;
    st.receivedPrior = r.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval));
    buf.writeUInt32BE(r.ssrc >>> 0, off);
    buf.writeUInt32BE(((fraction << 24) | Math.min(0x7fffff, r.lost)) >>> 0, off + 4);
    buf.writeUInt32BE(r.extendedMax >>> 0, off + 8);
    buf.writeUInt32BE(Math.round(r.jitter) >>> 0, off + 12);
    buf.writeUInt32BE(st.lastSr >>> 0, off + 16);
    const dlsr = st.lastSr ? Math.round(((nowUnixMs - st.lastSrAt) / 1000) * 65536) : 0;
    buf.writeUInt32BE(dlsr >>> 0, off + 20);
    off += 24;
  }
  // SDES with one chunk: SSRC, CNAME item, end item, padded to 32 bits.
  const text = Buffer.from(cname.slice(0, 255), 'utf8');
  const chunk = 4 + 2 + text.length + 1;
  const padded = (chunk + 3) & ~3;
  buf[off] = 0x81;
  buf[off + 1] = 202;
  buf.writeUInt16BE(padded / 4, off + 2);
  buf.writeUInt32BE(s.ssrc >>> 0, off + 4);
  buf[off + 8] = 1;
  buf[off + 9] = text.length;
  text.copy(buf, off + 10);
  buf.fill(0, off + 10 + text.length, off + 4 + padded);
  return off + 4 + padded;
}

/**
 * Reads a received compound packet: remembers an SR's timestamp for the next report block's LSR, and returns
 * the round trip (ms) a report block about ssrc gives, if one does. Undefined also for what is no RTCP.
 */
export function readReport(buf: Buffer, ssrc: number, st: ReportState, nowUnixMs: number): { rttMs?: number; valid: boolean } {
  let off = 0;
  let rttMs: number | undefined;
  let valid = false;
  while (off + 8 <= buf.length) {
    if (buf[off]! >> 6 !== 2) break;
    const count = buf[off]! & 0x1f;
    const pt = buf[off + 1]!;
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > buf.length) break;
    if (pt === 200 || pt === 201) {
      valid = true;
      let blocks = off + 8;
      if (pt === 200 && len >= 28) {
        st.lastSr = ((buf.readUInt32BE(off + 8) & 0xffff) * 65536 + (buf.readUInt32BE(off + 12) >>> 16)) >>> 0;
        st.lastSrAt = nowUnixMs;
        blocks += 20;
      }
      for (let i = 0; i < count && blocks + 24 <= off + len; i++, blocks += 24) {
        if (buf.readUInt32BE(blocks) !== ssrc >>> 0) continue;
        const lsr = buf.readUInt32BE(blocks + 16);
        const dlsr = buf.readUInt32BE(blocks + 20);
        if (lsr === 0) continue;
        const a = ntpMiddle(nowUnixMs);
        const rtt = (((a - lsr - dlsr) >>> 0) / 65536) * 1000;
        if (rtt < 60_000) rttMs = rtt;
      }
    }
    off += len;
  }
  return { ...(rttMs !== undefined ? { rttMs } : {}), valid };
}
