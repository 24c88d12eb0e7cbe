// The one timer facility of an event loop: a hashed wheel of 1 ms slots (about
// one second of horizon) for retransmission timers and pauses, fed by coarse
// one-second buckets for long timers (Timer B/F at 32 s, registration refresh).
// Schedule and cancel are O(1); one Node timer, armed only while timers exist,
// drives it. This is SIPp's idea (include/task.hpp) with undici's split between
// precise and coarse timers.

import { systemClock, type Clock, ManualClock } from './clock.js';

export interface TimerHandle {
  cancel(): void;
}

/** One timer. A class, not an object literal with a closure: thousands live at once, and cancel() shares one function. */
class Entry implements TimerHandle {
  constructor(
    readonly wheel: TimerWheel,
    readonly due: number,
    public fn: (() => void) | null,
  ) {}

  cancel(): void {
    if (this.fn) {
      this.fn = null;
      this.wheel.cancelled();
    }
  }
}

const SLOTS = 1024; // fine wheel: SLOTS * tickMs of horizon

export class TimerWheel {
  readonly clock: Clock;
  private readonly tickMs: number;
  private readonly manual: boolean;
  private readonly slots: Entry[][] = Array.from({ length: SLOTS }, () => []);
  /** Coarse buckets keyed by the wheel revolution of the tick a timer fires on: floor(tick / SLOTS). */
  private readonly buckets = new Map<number, Entry[]>();
  private readonly horizon: number;
  /** The tick index processed last. */
  private cursor: number;
  private live = 0;
  private handle: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;

  constructor(opts: { clock?: Clock; tickMs?: number; manual?: boolean } = {}) {
    this.manual = opts.manual ?? opts.clock instanceof ManualClock;
    this.clock = opts.clock ?? (this.manual ? new ManualClock() : systemClock);
    this.tickMs = opts.tickMs ?? 1;
    this.horizon = SLOTS * this.tickMs;
    this.cursor = Math.floor(this.clock.now() / this.tickMs);
  }

  /** Timers scheduled and not yet fired or cancelled. */
  get size(): number {
    return this.live;
  }

  now(): number {
    return this.clock.now();
  }

  /** Entry.cancel() tells the wheel one timer fewer is live. */
  cancelled(): void {
    this.live--;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const due = this.clock.now() + Math.max(0, delayMs);
    const entry = new Entry(this, due, fn);
    this.live++;
    this.place(entry);
    if (!this.manual) this.arm(due);
    return entry;
  }

  /** Manual mode: moves the clock forward and fires every timer now due, in due order per tick. */
  advance(ms: number): void {
    const clock = this.clock as ManualClock;
    const target = clock.now() + ms;
    // Step tick by tick so a timer scheduled by a firing callback fires in the same advance when due.
    while (clock.now() < target) {
      const next = Math.min(target, (this.cursor + 1) * this.tickMs);
      clock.set(next);
      this.run();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }

  private place(entry: Entry): void {
    // A timer fires on the first tick at or after its due time, never before.
    const tick = Math.ceil(entry.due / this.tickMs);
    if (tick <= this.cursor) {
      // Already due: next run picks it up from the current slot.
      this.slots[(this.cursor + 1) % SLOTS]!.push(entry);
    } else if (tick - this.cursor < SLOTS) {
      this.slots[tick % SLOTS]!.push(entry);
    } else {
      // Keyed by the firing tick, not the due time: a due time just below a revolution's end fires on the
      // first tick of the next one, and must wait in that revolution's bucket (else it is never taken out).
      const key = Math.floor(tick / SLOTS);
      let bucket = this.buckets.get(key);
      if (!bucket) this.buckets.set(key, (bucket = []));
      bucket.push(entry);
    }
  }

  /** Fires everything due up to now. */
  private run(): void {
    const nowTick = Math.floor(this.clock.now() / this.tickMs);
    while (this.cursor < nowTick) {
      this.cursor++;
      // Entering revolution w: its coarse bucket (ticks within [w*SLOTS, (w+1)*SLOTS)) now fits the wheel.
      if (this.cursor % SLOTS === 0) {
        const key = this.cursor / SLOTS;
        const bucket = this.buckets.get(key);
        if (bucket) {
          this.buckets.delete(key);
          // Their ticks are this one or later in this revolution: straight into their slots (this slot is read next).
          for (const e of bucket) if (e.fn) this.slots[Math.ceil(e.due / this.tickMs) % SLOTS]!.push(e);
        }
      }
      const slot = this.slots[this.cursor % SLOTS]!;
      if (slot.length === 0) continue;
      this.slots[this.cursor % SLOTS] = [];
      for (const e of slot) {
        const fn = e.fn;
        if (!fn) continue;
        if (Math.ceil(e.due / this.tickMs) > this.cursor) {
          this.place(e); // a later revolution
          continue;
        }
        e.fn = null;
        this.live--;
        fn();
      }
    }
  }

  private arm(due: number): void {
    if (this.stopped || due >= this.armedFor) return;
    if (this.handle) clearTimeout(this.handle);
    this.armedFor = due;
    const delay = Math.max(0, due - this.clock.now());
    this.handle = setTimeout(() => this.onTimer(), delay);
    this.handle.unref();
  }

  private onTimer(): void {
    this.handle = undefined;
    this.armedFor = Infinity;
    this.run();
    if (this.live > 0) this.arm(this.nextDue());
  }

  /** Earliest due time among live timers: scan the fine wheel forward, else the first coarse bucket. */
  private nextDue(): number {
    for (let i = 1; i <= SLOTS; i++) {
      const slot = this.slots[(this.cursor + i) % SLOTS]!;
      let min = Infinity;
      for (const e of slot) if (e.fn && e.due < min) min = e.due;
      if (min !== Infinity) return min;
    }
    let key = Infinity;
    for (const [k, b] of this.buckets) if (k < key && b.some((e) => e.fn)) key = k;
    return key === Infinity ? this.clock.now() + this.horizon : key * this.horizon;
  }
}
