// RTP (RFC 3550) for one stream: the fixed header written into a caller's
// buffer (§5.1), and the receive-side statistics of §6.4.1 kept the way
// Appendix A says: extended highest sequence number with wrap (A.1), packets
// expected and lost (A.3), interarrival jitter (A.8). Duplicates and
// reordered packets are counted apart, through a 32-packet window of the
// sequence numbers last seen: a stream's state is these few numbers, no
// buffer per packet.

/** §5.1: version 2, no padding, extension or CSRC; marker bit and payload type in the second byte. */
export function writeRtpHeader(buf: Buffer, off: number, marker: boolean, pt: number, seq: number, ts: number, ssrc: number): number {
  buf[off] = 0x80;
  buf[off + 1] = (marker ? 0x80 : 0) | (pt & 0x7f);
  buf.writeUInt16BE(seq & 0xffff, off + 2);
  buf.writeUInt32BE(ts >>> 0, off + 4);
  buf.writeUInt32BE(ssrc >>> 0, off + 8);
  return 12;
}

export interface RtpHeader {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
  /** Offset and length of the payload (after CSRCs, extension; padding removed). */
  payloadOffset: number;
  payloadLength: number;
}

/** Reads an RTP header (§5.1), or undefined when the datagram is no RTP version 2 packet. */
export function readRtpHeader(buf: Buffer): RtpHeader | undefined {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) return undefined;
  const cc = buf[0]! & 0x0f;
  let off = 12 + 4 * cc;
  if (buf[0]! & 0x10) {
    if (buf.length < off + 4) return undefined;
    off += 4 + 4 * buf.readUInt16BE(off + 2);
  }
  let end = buf.length;
  if (buf[0]! & 0x20) end -= buf[buf.length - 1]!;
  if (off > end) return undefined;
  return {
    pt: buf[1]! & 0x7f, marker: (buf[1]! & 0x80) !== 0, seq: buf.readUInt16BE(2), ts: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8),
    payloadOffset: off, payloadLength: end - off,
  };
}

/** A.1: a jump forward of less than this is packets lost, not a restarted sequence. */
const MAX_DROPOUT = 3000;
/** A.1: a step back of less than this is a late (reordered or duplicate) packet. */
const MAX_MISORDER = 100;
const WINDOW = 32;

/** The receive side of one stream (RFC 3550 §6.4.1, Appendix A.1, A.3, A.8). */
export class RtpReceiver {
  ssrc = -1;
  /** Extended sequence numbers: cycles × 65536 + seq. */
  private baseExt = 0;
  private maxExt = -1;
  /** Bit i set: sequence number maxExt - i was received. */
  private window = 0;
  received = 0;
  duplicates = 0;
  reordered = 0;
  /** Packets too far out of sequence to place (A.1's "bad sequence"), and datagrams that are no RTP. */
  outOfRange = 0;
  invalid = 0;
  /** Packets of another SSRC than the stream's first (not counted in its statistics). */
  otherSsrc = 0;
  /** RFC 4733 event packets received (counted in received: they share the sequence space). */
  events = 0;
  /** A.8 jitter, in timestamp units. */
  jitter = 0;
  private lastTransit = NaN;
  firstArrivalMs = -1;
  lastArrivalMs = -1;

  constructor(
    private readonly clockRate = 8000,
    /** RFC 4733 payload type (known once the answer came), -1 for none. */
    public eventPt = -1,
  ) {}

  /** One datagram received at arrivalMs (the worker's clock). */
  onPacket(buf: Buffer, arrivalMs: number): RtpHeader | undefined {
    const h = readRtpHeader(buf);
    if (!h) {
      this.invalid++;
      return undefined;
    }
    if (this.ssrc === -1) this.ssrc = h.ssrc;
    else if (h.ssrc !== this.ssrc) {
      this.otherSsrc++;
      return h;
    }
    if (!this.sequence(h.seq)) return h;
    if (this.firstArrivalMs < 0) this.firstArrivalMs = arrivalMs;
    this.lastArrivalMs = arrivalMs;
    if (h.pt === this.eventPt) {
      // An event's timestamp is its start, repeated in every packet of it (RFC 4733 §2.5.1.1): no transit time.
      this.events++;
      return h;
    }
    // A.8: transit in timestamp units, differences taken modulo 2^32 (timestamps wrap).
    const transit = ((arrivalMs * this.clockRate) / 1000 - h.ts) % 4294967296;
    if (!Number.isNaN(this.lastTransit)) {
      let d = transit - this.lastTransit;
      if (d > 2147483648) d -= 4294967296;
      else if (d < -2147483648) d += 4294967296;
      if (d < 0) d = -d;
      this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;
    return h;
  }

  /** Places a sequence number (A.1); false for a duplicate or a packet out of range. */
  private sequence(seq: number): boolean {
    if (this.maxExt < 0) {
      this.baseExt = this.maxExt = seq;
      this.window = 1;
      this.received = 1;
      return true;
    }
    const max16 = this.maxExt & 0xffff;
    const delta = (seq - max16) & 0xffff;
    if (delta === 0) {
      this.duplicates++;
      return false;
    }
    if (delta < MAX_DROPOUT) {
      // In order, perhaps after a gap; wraps into the next cycle when seq < max16.
      this.maxExt += delta;
      this.window = delta >= WINDOW ? 1 : ((this.window << delta) | 1) >>> 0;
      this.received++;
      return true;
    }
    if (delta > 65536 - MAX_MISORDER) {
      const back = 65536 - delta;
      if (back < WINDOW) {
        const bit = (1 << back) >>> 0;
        if (this.window & bit) {
          this.duplicates++;
          return false;
        }
        this.window = (this.window | bit) >>> 0;
      }
      // A late packet before the first one received moves the start of the count (A.3's base_seq) back.
      const ext = this.maxExt - back;
      if (ext < this.baseExt) this.baseExt = ext;
      this.received++;
      this.reordered++;
      return true;
    }
    this.outOfRange++;
    return false;
  }

  /** A.3: extended highest sequence number received - base + 1. */
  get expected(): number {
    return this.maxExt < 0 ? 0 : this.maxExt - this.baseExt + 1;
  }

  /** A.3: expected - received, never below 0 (duplicates are not in received here). */
  get lost(): number {
    return Math.max(0, this.expected - this.received);
  }

  get extendedMax(): number {
    return this.maxExt < 0 ? 0 : this.maxExt;
  }

  get jitterMs(): number {
    return (this.jitter * 1000) / this.clockRate;
  }
}
