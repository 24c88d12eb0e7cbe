// The media clock of one worker: every stream's 20 ms packets go out from one
// timer on the worker's one timer wheel (a 20 ms grid), not a timer per
// stream; packets are written into one ring of packet slots reused by all
// streams (a slot is written again only after the whole ring has gone round,
// long after its datagram left), so sending allocates nothing. It also hands
// out RTP ports from a range and keeps the encoded sources.

import type { TimerHandle, TimerTarget, TimerWheel } from '../timer/index.js';
import { SourceCache } from './sources.js';

export const PACKET_MS = 20;
/** RTCP reports every 5 s (RFC 3550 §6.2's minimum interval). */
export const RTCP_INTERVAL_MS = 5000;
const SLOT = 256;
const SLOTS = 512;

/** What the scheduler asks of a stream on every tick. */
export interface ScheduledStream {
  /** When the stream's next packet is due (scheduler clock); Infinity: nothing to send. */
  nextAt: number;
  /** Sends the packet due, written into buf from off (at most 256 bytes); moves nextAt on. */
  sendDue(buf: Buffer, off: number, now: number): void;
  /** Index in the scheduler's list (for O(1) removal); -1 when not in it. */
  slot: number;
}

export class MediaScheduler implements TimerTarget {
  private readonly streams: ScheduledStream[] = [];
  private timer: TimerHandle | undefined;
  private readonly ring = Buffer.alloc(SLOT * SLOTS);
  private ringAt = 0;
  readonly sources = new SourceCache();
  /** The next port to try in the range. */
  portCursor = -1;
  /** Packets sent late by more than one packet time (the worker could not keep up): a health figure. */
  late = 0;

  constructor(readonly wheel: TimerWheel) {}

  get active(): number {
    return this.streams.length;
  }

  /** The first grid instant at or after now: where a new stream's first packet goes. */
  nextTick(now: number): number {
    return Math.ceil(now / PACKET_MS) * PACKET_MS;
  }

  add(s: ScheduledStream): void {
    if (s.slot >= 0) return;
    s.slot = this.streams.length;
    this.streams.push(s);
    if (!this.timer) this.arm();
  }

  remove(s: ScheduledStream): void {
    const i = s.slot;
    if (i < 0) return;
    const last = this.streams.pop()!;
    if (last !== s) {
      this.streams[i] = last;
      last.slot = i;
    }
    s.slot = -1;
    if (this.streams.length === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  /** A packet slot of the ring (its offset), for one datagram of at most 256 bytes sent off the grid (RTCP). */
  slotOffset(): number {
    const at = this.ringAt;
    this.ringAt = (this.ringAt + 1) % SLOTS;
    return at * SLOT;
  }

  get buffer(): Buffer {
    return this.ring;
  }

  private arm(): void {
    const now = this.wheel.now();
    this.timer = this.wheel.scheduleFor(this.nextTick(now + 0.001) - now, this, 0);
  }

  onTimer(): void {
    this.timer = undefined;
    const now = this.wheel.now();
    // A stream added or removed while sending (a call ends on a packet) moves others: walk a stable copy's length.
    for (let i = 0; i < this.streams.length; i++) {
      const s = this.streams[i]!;
      let sent = 0;
      // Catch up after a stall: the packet rate holds even when a tick comes late.
      while (s.nextAt <= now + 0.5 && s.slot >= 0 && sent < 50) {
        if (sent > 0) this.late++;
        s.sendDue(this.ring, this.slotOffset(), now);
        sent++;
      }
      if (s.slot !== i) i--;
    }
    if (this.streams.length > 0) this.arm();
  }
}
