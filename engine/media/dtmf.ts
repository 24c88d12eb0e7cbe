// RFC 4733 telephone-events: a digit string as the packets of named events
// (§3.2: 0-9, *, #, A-D), one packet every 20 ms while a digit lasts, the
// final packet (E bit) sent three times (§2.5.1.4), the first with the marker
// bit (§2.5.1.3), all of an event with the event's start timestamp.

import { MediaError } from './errors.js';

const EVENTS = '0123456789*#ABCD';

/** Digits a `dtmf:` step may send. */
export const DTMF_DIGITS = /^[0-9*#A-Da-d]+$/;

/** Event code of a digit (§3.2), or -1. */
export function eventCode(digit: string): number {
  return EVENTS.indexOf(digit.toUpperCase());
}

/** Packets per digit: 5 × 20 ms of the event going on, then its end three times. */
export const TONE_PACKETS = 5;
export const END_PACKETS = 3;
/** Frames of audio between two digits. */
export const GAP_FRAMES = 2;
const VOLUME = 10; // -10 dBm0

/** The 4-byte event payload (§2.3). */
export function writeEvent(buf: Buffer, off: number, event: number, end: boolean, duration: number): number {
  buf[off] = event;
  buf[off + 1] = (end ? 0x80 : 0) | VOLUME;
  buf.writeUInt16BE(Math.min(0xffff, duration), off + 2);
  return 4;
}

/** Where a stream is in a digit string: the digit, and the packet of it (then the gap). */
export class DtmfPlayer {
  private digit = 0;
  private packet = 0;
  /** Timestamp of the current event's start. */
  private startTs = 0;

  constructor(
    readonly digits: string,
    /** Called by the stream once the packet that ended the last digit's gap went out. */
    readonly onDone: () => void,
  ) {
    if (!DTMF_DIGITS.test(digits)) throw new MediaError('DTMF_INVALID', `dtmf '${digits}': only 0-9, *, #, A-D`);
  }

  get done(): boolean {
    return this.digit >= this.digits.length;
  }

  /**
   * The next frame's content: an event packet written at buf[off] (returns its payload length, and sets marker
   * and timestamp through the result), or 0 for an audio frame (in the gap between digits).
   */
  next(buf: Buffer, off: number, ts: number): { length: number; marker: boolean; ts: number } {
    const p = this.packet++;
    if (p === 0) this.startTs = ts;
    let out = { length: 0, marker: false, ts };
    if (p < TONE_PACKETS + END_PACKETS) {
      const end = p >= TONE_PACKETS;
      const duration = 160 * Math.min(p + 1, TONE_PACKETS);
      out = { length: writeEvent(buf, off, eventCode(this.digits[this.digit]!), end, duration), marker: p === 0, ts: this.startTs };
    }
    if (this.packet >= TONE_PACKETS + END_PACKETS + GAP_FRAMES) {
      this.packet = 0;
      this.digit++;
    }
    return out;
  }
}
