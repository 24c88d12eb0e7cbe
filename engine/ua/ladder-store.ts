// The messages a worker's instances sent and received, kept for the SIP
// ladders of failed instances: one ring of bytes with a fixed budget for the
// whole worker, instead of a list of buffers per instance. 100,000 idle
// registered UAs would otherwise hold 400,000 datagrams for a failure report
// that at most 20 of them will ever make. When the ring is full the oldest
// messages make room; a ladder that lost its first messages says so.

import type { SipMessage } from '../codec/index.js';

export interface StoredMessage {
  /** Milliseconds since its instance started. */
  t: number;
  dir: 'sent' | 'received';
  data: Buffer;
}

/** Average message size the entry table is sized for; smaller messages only make eviction come from the table. */
const AVERAGE_MESSAGE_BYTES = 256;

export class LadderStore {
  private readonly ring: Buffer;
  private readonly owner: Float64Array;
  private readonly offset: Uint32Array;
  private readonly length: Uint32Array;
  private readonly time: Float64Array;
  private readonly received: Uint8Array;
  private head = 0; // next entry slot
  private tail = 0; // oldest live entry slot
  private live = 0;
  private writeAt = 0;

  constructor(readonly budgetBytes = 4 * 1024 * 1024) {
    this.ring = Buffer.allocUnsafe(budgetBytes);
    const entries = Math.max(16, Math.floor(budgetBytes / AVERAGE_MESSAGE_BYTES));
    this.owner = new Float64Array(entries);
    this.offset = new Uint32Array(entries);
    this.length = new Uint32Array(entries);
    this.time = new Float64Array(entries);
    this.received = new Uint8Array(entries);
  }

  /** Copies the message's bytes in (a message larger than the whole budget is cut to it). */
  add(owner: number, t: number, dir: 'sent' | 'received', data: Buffer | SipMessage): void {
    const bytes = Buffer.isBuffer(data) ? data : data.raw;
    if (!bytes) return;
    const len = Math.min(bytes.length, this.ring.length);
    if (this.writeAt + len > this.ring.length) {
      // Wrap: what is left of the previous lap, at the end of the ring, is the oldest there is.
      while (this.live > 0 && this.offset[this.tail]! >= this.writeAt) this.evict();
      this.writeAt = 0;
    }
    while (this.live > 0 && this.offset[this.tail]! >= this.writeAt && this.offset[this.tail]! < this.writeAt + len) this.evict();
    if (this.live === this.owner.length) this.evict();
    // TypedArray set, not Buffer copy: a memcpy inside V8 rather than a call into Node's C++ per message.
    this.ring.set(len === bytes.length ? bytes : bytes.subarray(0, len), this.writeAt);
    const i = this.head;
    this.owner[i] = owner;
    this.offset[i] = this.writeAt;
    this.length[i] = len;
    this.time[i] = t;
    this.received[i] = dir === 'received' ? 1 : 0;
    this.head = (i + 1) % this.owner.length;
    this.live++;
    this.writeAt += len;
  }

  /** An instance's messages still in the ring, oldest first, as copies. */
  messagesOf(owner: number): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (let k = 0, i = this.tail; k < this.live; k++, i = (i + 1) % this.owner.length) {
      if (this.owner[i] !== owner) continue;
      const from = this.offset[i]!;
      out.push({ t: this.time[i]!, dir: this.received[i] ? 'received' : 'sent', data: Buffer.from(this.ring.subarray(from, from + this.length[i]!)) });
    }
    return out;
  }

  private evict(): void {
    this.tail = (this.tail + 1) % this.owner.length;
    this.live--;
  }
}
