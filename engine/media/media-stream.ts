// One call's audio stream: its RTP and RTCP sockets (a port pair from the
// settings' range, or any free ports), the offer it makes, the packets it
// sends on the worker's media clock once the answer says where (G.711 frames
// of its source, RFC 4733 events while a dtmf step plays), the reports every
// 5 s, and what it received (rtp-stream.ts), summed up when the call ends
// (StreamStats) with the E-model's MOS.

import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { StreamFigures } from '../metrics/index.js';
import { DtmfPlayer } from './dtmf.js';
import { estimateMos } from './emodel.js';
import { MediaError } from './errors.js';
import { PACKET_MS, RTCP_INTERVAL_MS, type MediaScheduler, type ScheduledStream } from './media-scheduler.js';
import { readReport, writeReport, type ReportState } from './rtcp.js';
import { RtpReceiver, writeRtpHeader } from './rtp-stream.js';
import { buildOffer, type LocalMedia, type Negotiated } from './sdp.js';
import type { MediaSettings } from './settings.js';
import { FRAME_SAMPLES, type EncodedSource } from './sources.js';

/** What one stream measured, when it ended: the figures the metrics add up across calls (their meaning is there), and the round trip. */
export interface StreamStats extends StreamFigures {
  rttMs?: number;
}

async function bindPair(host: string, rtpPort: number): Promise<[dgram.Socket, dgram.Socket]> {
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  const bind = (port: number) =>
    new Promise<dgram.Socket>((resolve, reject) => {
      const s = dgram.createSocket({ type });
      s.once('error', (err) => {
        s.close();
        reject(err);
      });
      s.bind(port, host, () => {
        s.removeAllListeners('error');
        resolve(s);
      });
    });
  const rtp = await bind(rtpPort);
  try {
    return [rtp, await bind(rtpPort === 0 ? 0 : rtpPort + 1)];
  } catch (err) {
    rtp.close();
    throw err;
  }
}

/** An even port pair from the range (RTCP on the odd one above, RFC 3550 §11), trying each pair once. */
async function allocate(host: string, range: [number, number] | undefined, sched: MediaScheduler): Promise<[dgram.Socket, dgram.Socket]> {
  if (!range) return bindPair(host, 0);
  const lo = range[0] + (range[0] & 1);
  const pairs = Math.floor((range[1] - lo + 1) / 2);
  if (pairs < 1) throw new MediaError('MEDIA_NO_PORT', `no even port pair in the range ${range[0]}-${range[1]}`);
  for (let i = 0; i < pairs; i++) {
    sched.portCursor = (sched.portCursor + 1) % pairs;
    try {
      return await bindPair(host, lo + 2 * sched.portCursor);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new MediaError('MEDIA_NO_PORT', `no free RTP port pair in ${range[0]}-${range[1]} on ${host}`);
}

export class MediaStream implements ScheduledStream {
  nextAt = Infinity;
  slot = -1;
  private neg: Negotiated | undefined;
  private source: EncodedSource | undefined;
  private frame = 0;
  private readonly ssrc = randomInt(0, 2 ** 32 - 1);
  private seq = randomInt(0, 65536);
  private ts = randomInt(0, 2 ** 32 - 1);
  private packetsSent = 0;
  private octetsSent = 0;
  private dtmfSent = 0;
  private dtmf: DtmfPlayer | undefined;
  private sendUntil = Infinity;
  private answeredAt = -1;
  private nextRtcpAt = Infinity;
  private rtcpSent = 0;
  private rtcpReceived = 0;
  private rttMs: number | undefined;
  private readonly report: ReportState = { expectedPrior: 0, receivedPrior: 0, lastSr: 0, lastSrAt: 0 };
  private readonly receiver = new RtpReceiver(8000, -1);
  private closed = false;
  /** What it measured, made once when it closed. */
  private stats: StreamStats | undefined;
  /** Offer/answer version for the o= line (RFC 3264 §8: one more for each new offer). */
  private version = 1;
  private readonly sessionId = String(randomInt(1, 2 ** 31));

  private constructor(
    private readonly sched: MediaScheduler,
    readonly settings: MediaSettings,
    readonly host: string,
    private readonly rtp: dgram.Socket,
    private readonly rtcp: dgram.Socket,
  ) {
    rtp.on('message', (msg) => {
      if (!this.closed) this.receiver.onPacket(msg, this.sched.wheel.now());
    });
    rtcp.on('message', (msg) => {
      if (this.closed) return;
      const r = readReport(msg, this.ssrc, this.report, Date.now());
      if (r.valid) this.rtcpReceived++;
      if (r.rttMs !== undefined) this.rttMs = r.rttMs;
    });
    // A send to a port nobody listens on comes back as ICMP, an error on the socket: the loss shows in the stats.
    rtp.on('error', () => {});
    rtcp.on('error', () => {});
  }

  static async open(sched: MediaScheduler, settings: MediaSettings, host: string): Promise<MediaStream> {
    const [rtp, rtcp] = await allocate(host, settings.ports, sched);
    return new MediaStream(sched, settings, host, rtp, rtcp);
  }

  get port(): number {
    return this.rtp.address().port;
  }

  get rtcpPort(): number {
    return this.rtcp.address().port;
  }

  /** An SDP offer for this stream; direction overrides the settings' (hold: sendonly, inactive). */
  offer(direction = this.settings.direction): string {
    return buildOffer({
      host: this.host, port: this.port, rtcpPort: this.rtcpPort, codecs: this.settings.codecs, direction,
      sessionId: this.sessionId, version: this.version++,
    });
  }

  /** The local side of an answer this stream makes (the embedded server, a UAS). */
  local(direction = this.settings.direction): LocalMedia {
    return { host: this.host, port: this.port, rtcpPort: this.rtcpPort, codecs: this.settings.codecs, direction, sessionId: this.sessionId, version: this.version++ };
  }

  /** The answer came (or a new one, after a re-INVITE): send where and how it says, from the next tick. */
  start(neg: Negotiated): void {
    if (this.closed) return;
    const now = this.sched.wheel.now();
    const first = this.neg === undefined;
    this.neg = neg;
    this.receiver.eventPt = neg.dtmfPayloadType ?? -1;
    if (first) {
      this.answeredAt = now;
      if (this.settings.durationMs !== undefined) this.sendUntil = now + this.settings.durationMs;
      this.nextRtcpAt = now + RTCP_INTERVAL_MS;
    }
    this.source = this.sched.sources.get(this.settings.source, neg.codec);
    this.nextAt = this.sched.nextTick(now);
    this.sched.add(this);
  }

  /** Plays digits as RFC 4733 events; onDone when the last one ended. Refused when the answer took no telephone-event. */
  playDtmf(digits: string, onDone: () => void): void {
    if (!this.neg) throw new MediaError('DTMF_NO_STREAM', 'no media stream is up (no answer with SDP yet)');
    if (this.neg.dtmfPayloadType === undefined) throw new MediaError('DTMF_NOT_NEGOTIATED', 'the answer did not accept telephone-event (RFC 4733)');
    if (!this.neg.send) throw new MediaError('DTMF_NOT_SENDING', 'the stream does not send (on hold or recvonly)');
    this.dtmf = new DtmfPlayer(digits, onDone);
  }

  sendDue(buf: Buffer, off: number, now: number): void {
    if (this.closed) return;
    const neg = this.neg!;
    if (now >= this.nextRtcpAt) {
      this.nextRtcpAt += RTCP_INTERVAL_MS;
      this.sendRtcp();
    }
    this.nextAt += PACKET_MS;
    if (!neg.send || now >= this.sendUntil) {
      this.ts = (this.ts + FRAME_SAMPLES) >>> 0;
      return;
    }
    let len: number;
    const d = this.dtmf;
    const event = d ? d.next(buf, off + 12, this.ts) : undefined;
    if (event && event.length > 0) {
      writeRtpHeader(buf, off, event.marker, neg.dtmfPayloadType!, this.seq, event.ts, this.ssrc);
      len = 12 + event.length;
      this.dtmfSent++;
    } else {
      writeRtpHeader(buf, off, this.packetsSent === 0, neg.payloadType, this.seq, this.ts, this.ssrc);
      const src = this.source!;
      const at = (this.frame % src.count) * FRAME_SAMPLES;
      buf.set(src.frames.subarray(at, at + FRAME_SAMPLES), off + 12);
      this.frame++;
      len = 12 + FRAME_SAMPLES;
    }
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + FRAME_SAMPLES) >>> 0;
    this.packetsSent++;
    this.octetsSent += len - 12;
    this.rtp.send(buf, off, len, neg.remotePort, neg.remoteHost);
    // Last: the step it ends may end the call, and close this stream.
    if (d?.done) {
      this.dtmf = undefined;
      d.onDone();
    }
  }

  private sendRtcp(): void {
    const neg = this.neg;
    if (!neg) return;
    const off = this.sched.slotOffset();
    const buf = this.sched.buffer;
    const len = writeReport(
      buf.subarray(off, off + 256), { ssrc: this.ssrc, packets: this.packetsSent, octets: this.octetsSent, rtpTs: this.ts },
      this.receiver, this.report, Date.now(), `sipstorm@${this.host}`.slice(0, 64),
    );
    this.rtcpSent++;
    this.rtcp.send(buf, off, len, neg.remoteRtcpPort, neg.remoteHost);
  }

  /** Ends the stream (BYE, or the call's end): sockets closed, what it measured returned. Once; later calls return the same. */
  close(): StreamStats {
    if (!this.closed) {
      this.closed = true;
      this.sched.remove(this);
      if (this.neg && this.packetsSent > 0) this.sendRtcp();
      this.rtp.close();
      this.rtcp.close();
      this.stats = this.summary();
    }
    return this.stats!;
  }

  private summary(): StreamStats {
    const r = this.receiver;
    const now = this.sched.wheel.now();
    const receiving = this.neg?.receive ?? false;
    const first = r.firstArrivalMs >= 0 && this.answeredAt >= 0 ? Math.max(0, r.firstArrivalMs - this.answeredAt) : undefined;
    const window = Math.min(this.settings.oneWayAfterMs, this.answeredAt >= 0 ? now - this.answeredAt : 0);
    const oneWay = receiving && (first === undefined || first > window);
    const loss = oneWay ? 1 : r.expected > 0 ? r.lost / r.expected : 0;
    const jitterMs = r.jitterMs;
    return {
      packetsSent: this.packetsSent, receiving, packetsReceived: r.received, packetsExpected: r.expected, packetsLost: r.lost,
      duplicates: r.duplicates, reordered: r.reordered, loss, jitterMs,
      mos: oneWay ? 1 : estimateMos({ loss, jitterMs, delayMs: this.rttMs !== undefined ? this.rttMs / 2 : 0 }),
      oneWay, ...(first !== undefined ? { firstPacketMs: first } : {}),
      dtmfSent: this.dtmfSent, rtcpSent: this.rtcpSent, rtcpReceived: this.rtcpReceived,
      ...(this.rttMs !== undefined ? { rttMs: this.rttMs } : {}),
    };
  }
}
