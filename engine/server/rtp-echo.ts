// The embedded server's media: one UDP port that every call's SDP answer
// names (RFC 3264 §6, the codec chosen from the offer), where each RTP or
// RTCP datagram received goes back to its sender: an RTP echo, like SIPp's
// -rtp_echo. Its fault knobs act on the echoed packets, per sender, so the
// caller's metrics can be checked against them exactly:
//   rtpDropRate: this share dropped (error diffusion: exactly 1 in 20 for 0.05, no chance involved),
//   rtpJitterMs: every other packet's RTP timestamp moved J ms back: its transit time (arrival − timestamp)
//     alternates by J, which RFC 3550 A.8 reads as jitter J whatever the load of the machine (a packet held
//     J ms by a timer would read J plus how late that timer fired),
//   rtpReorderRate: this share held back until the sender's next packet went,
//   rtpOneWay: nothing sent back (one-way audio).

import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { answerOffer, parseSdp, SdpError } from '../media/index.js';
import type { SipMessage } from '../codec/index.js';
import { bindDatagram } from '../transport/bind.js';
import type { ServerFaults } from './faults.js';

interface Sender {
  packets: number;
  dropDebt: number;
  reorderDebt: number;
  held?: Buffer;
}

/** Senders kept for their fault state; past this many, the oldest are forgotten (their state starts again). */
const MAX_SENDERS = 20_000;

export interface RtpEchoStats {
  rtpReceived: number;
  rtpEchoed: number;
  rtpDropped: number;
}

export class RtpEcho {
  readonly stats: RtpEchoStats = { rtpReceived: 0, rtpEchoed: 0, rtpDropped: 0 };
  private readonly senders = new Map<string, Sender>();

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly faults: () => ServerFaults,
    readonly host: string,
  ) {
    socket.on('message', (msg, rinfo) => this.onPacket(msg, rinfo.port, rinfo.address));
    // An echo to a port that closed comes back as ICMP, an error here: nothing to do about it.
    socket.on('error', () => {});
  }

  static async start(host: string, faults: () => ServerFaults): Promise<RtpEcho> {
    const socket = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    await bindDatagram(socket, 0, host);
    return new RtpEcho(socket, faults, host);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /**
   * The SDP answer to the offer an INVITE carries: `sdp` (undefined without an audio offer), or `error` when no codec
   * of the offer fits (then 488, RFC 3261 §21.4.26). RTP and RTCP both come to the echo port (a=rtcp names it).
   */
  answer(req: SipMessage): { sdp?: string; error?: string } {
    if (req.body.length === 0 || !/application\/sdp/i.test(req.get('Content-Type') ?? '')) return {};
    try {
      const offer = parseSdp(req.body.toString('utf8'));
      const local = { host: this.host, port: this.port, rtcpPort: this.port, codecs: ['PCMU', 'PCMA'] as ('PCMU' | 'PCMA')[], direction: 'sendrecv' as const, sessionId: '1', version: 1 };
      return { sdp: answerOffer(offer, local).sdp };
    } catch (err) {
      if (!(err instanceof SdpError)) throw err;
      // Only an audio offer with no codec of ours is refused; other SDP (no audio, not parsable) gets the fixed answer of old.
      return err.code === 'SDP_NO_CODEC' ? { error: err.message } : {};
    }
  }

  private onPacket(msg: Buffer, port: number, address: string): void {
    this.stats.rtpReceived++;
    const f = this.faults();
    if (f.rtpOneWay) {
      this.stats.rtpDropped++;
      return;
    }
    const key = `${address}:${port}`;
    let s = this.senders.get(key);
    if (!s) {
      if (this.senders.size >= MAX_SENDERS) this.senders.delete(this.senders.keys().next().value!);
      s = { packets: 0, dropDebt: 0, reorderDebt: 0 };
      this.senders.set(key, s);
    }
    const n = s.packets++;
    // RTCP (payload types 200-204 in the second byte) is echoed as it is, without faults.
    const rtcp = msg.length >= 2 && msg[1]! >= 200 && msg[1]! <= 204;
    if (!rtcp && f.rtpDropRate) {
      s.dropDebt += f.rtpDropRate;
      if (s.dropDebt >= 1) {
        s.dropDebt -= 1;
        this.stats.rtpDropped++;
        return;
      }
    }
    if (!rtcp && f.rtpReorderRate) {
      if (s.held) {
        const held = s.held;
        s.held = undefined;
        this.send(msg, port, address, f, n);
        this.send(held, port, address, f, n);
        return;
      }
      s.reorderDebt += f.rtpReorderRate;
      if (s.reorderDebt >= 1) {
        s.reorderDebt -= 1;
        s.held = msg;
        return;
      }
    }
    this.send(msg, port, address, f, rtcp ? 0 : n);
  }

  private send(msg: Buffer, port: number, address: string, f: ServerFaults, n: number): void {
    this.stats.rtpEchoed++;
    if (f.rtpJitterMs && n % 2 === 1 && msg.length >= 12) {
      // 8 timestamp units a ms (G.711's 8 kHz clock).
      msg.writeUInt32BE((msg.readUInt32BE(4) - Math.round(f.rtpJitterMs * 8)) >>> 0, 4);
    }
    this.socket.send(msg, port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
