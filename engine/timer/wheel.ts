// The one timer facility of an event loop: a hashed wheel of fine slots (1 ms
// by default, about one second of horizon) for retransmission timers, pauses
// and arrivals, fed by coarse buckets (one per wheel revolution) for long
// timers (Timer B/F at 32 s, registration refresh). Schedule and cancel are
// O(1): every slot and bucket is an intrusive doubly linked list, so a
// cancelled timer is unlinked at once and dies young instead of waiting in its
// slot for the garbage collector to copy it around. One Node timer, armed only
// while timers exist, drives the wheel; poll() lets a busy event loop (a
// datagram just handled) fire what is due without waiting for that timer, whose
// granularity is a whole millisecond. SIPp's idea (include/task.hpp) with
// undici's split between precise and coarse timers.

import { systemClock, type Clock, ManualClock } from './clock.js';

export interface TimerHandle {
  cancel(): void;
}

/** An object that takes its own timers (scheduleFor): no closure per timer, which 100,000 paused UAs would each keep. */
export interface TimerTarget {
  onTimer(kind: number): void;
}

/** A list node: every slot and bucket has a sentinel, and an Entry links itself between them. */
class ListNode {
  prev: ListNode = this;
  next: ListNode = this;
}

/** One timer. A class, not an object literal with a closure: thousands live at once, and cancel() shares one function. */
class Entry extends ListNode implements TimerHandle {
  constructor(
    readonly wheel: TimerWheel,
    readonly due: number,
    public fn: (() => void) | null,
  ) {
    super();
  }

  cancel(): void {
    if (this.fn) {
      this.fn = null;
      unlink(this);
      this.wheel.cancelled();
    }
  }

  fire(fn: () => void): void {
    fn();
  }
}

/** Marks a TargetEntry live (its `fn`); never called. */
const TARGET = (): void => undefined;

class TargetEntry extends Entry {
  constructor(
    wheel: TimerWheel,
    due: number,
    readonly target: TimerTarget,
    readonly kind: number,
  ) {
    super(wheel, due, TARGET);
  }

  override fire(): void {
    this.target.onTimer(this.kind);
  }
}

function unlink(e: ListNode): void {
  e.prev.next = e.next;
  e.next.prev = e.prev;
  e.prev = e.next = e;
}

function append(list: ListNode, e: ListNode): void {
  e.prev = list.prev;
  e.next = list;
  list.prev.next = e;
  list.prev = e;
}

/** Moves every node of `from` to the end of `to`, in order. */
function appendAll(to: ListNode, from: ListNode): void {
  if (from.next === from) return;
  const first = from.next;
  const last = from.prev;
  first.prev = to.prev;
  to.prev.next = first;
  last.next = to;
  to.prev = last;
  from.next = from.prev = from;
}

export class TimerWheel {
  readonly clock: Clock;
  private readonly tickMs: number;
  private readonly manual: boolean;
  /** Fine wheel: about one second of horizon whatever the tick. */
  private readonly slotCount: number;
  private readonly slots: ListNode[];
  /** Coarse buckets keyed by the wheel revolution of the tick a timer fires on: floor(tick / slotCount). */
  private readonly buckets = new Map<number, ListNode>();
  /** The slot being fired, moved aside so that timers scheduled meanwhile can land in its place. */
  private readonly firing = new ListNode();
  /** The tick index processed last. */
  private cursor: number;
  private live = 0;
  private running = false;
  private handle: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;

  constructor(opts: { clock?: Clock; tickMs?: number; manual?: boolean } = {}) {
    this.manual = opts.manual ?? opts.clock instanceof ManualClock;
    this.clock = opts.clock ?? (this.manual ? new ManualClock() : systemClock);
    this.tickMs = opts.tickMs ?? 1;
    this.slotCount = 2 ** Math.ceil(Math.log2(1024 / this.tickMs));
    this.slots = Array.from({ length: this.slotCount }, () => new ListNode());
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
    return this.add(new Entry(this, this.clock.now() + Math.max(0, delayMs), fn));
  }

  /** Calls target.onTimer(kind) after delayMs. */
  scheduleFor(delayMs: number, target: TimerTarget, kind: number): TimerHandle {
    return this.add(new TargetEntry(this, this.clock.now() + Math.max(0, delayMs), target, kind));
  }

  private add(entry: Entry): Entry {
    this.live++;
    this.place(entry);
    if (!this.manual) this.arm(entry.due);
    return entry;
  }

  /** Fires what is due, if a tick has passed; cheap enough to call after every message handled. */
  poll(): void {
    if (this.live > 0 && !this.running && !this.stopped && this.clock.now() >= (this.cursor + 1) * this.tickMs) this.run();
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
      // Already due: the next run picks it up from the next slot.
      append(this.slots[(this.cursor + 1) % this.slotCount]!, entry);
    } else if (tick - this.cursor < this.slotCount) {
      append(this.slots[tick % this.slotCount]!, entry);
    } else {
      // Keyed by the firing tick, not the due time: a due time just below a revolution's end fires on the
      // first tick of the next one, and must wait in that revolution's bucket (else it is never taken out).
      const key = Math.floor(tick / this.slotCount);
      let bucket = this.buckets.get(key);
      if (!bucket) this.buckets.set(key, (bucket = new ListNode()));
      append(bucket, entry);
    }
  }

  /** Fires everything due up to now. */
  private run(): void {
    if (this.running) return;
    this.running = true;
    try {
      const nowTick = Math.floor(this.clock.now() / this.tickMs);
      while (this.cursor < nowTick) {
        this.cursor++;
        // Entering revolution w: its coarse bucket (ticks within [w*slotCount, (w+1)*slotCount)) now fits the wheel.
        if (this.cursor % this.slotCount === 0) {
          const key = this.cursor / this.slotCount;
          const bucket = this.buckets.get(key);
          if (bucket) {
            this.buckets.delete(key);
            // Their ticks are this one or later in this revolution: straight into their slots (this slot is read next).
            for (let e = bucket.next; e !== bucket; ) {
              const next = e.next;
              append(this.slots[Math.ceil((e as Entry).due / this.tickMs) % this.slotCount]!, e);
              e = next;
            }
          }
        }
        const slot = this.slots[this.cursor % this.slotCount]!;
        if (slot.next === slot) continue;
        appendAll(this.firing, slot);
        // One at a time from the head: a callback may cancel (unlink) any timer still waiting here.
        while (this.firing.next !== this.firing) {
          const e = this.firing.next as Entry;
          unlink(e);
          const fn = e.fn!;
          if (Math.ceil(e.due / this.tickMs) > this.cursor) {
            this.place(e); // a later revolution
            continue;
          }
          e.fn = null;
          this.live--;
          e.fire(fn);
        }
      }
    } finally {
      // A callback threw: what it left unfired is due, and fires on the next run.
      appendAll(this.slots[(this.cursor + 1) % this.slotCount]!, this.firing);
      this.running = false;
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
    for (let i = 1; i <= this.slotCount; i++) {
      const slot = this.slots[(this.cursor + i) % this.slotCount]!;
      let min = Infinity;
      for (let e = slot.next; e !== slot; e = e.next) if ((e as Entry).due < min) min = (e as Entry).due;
      if (min !== Infinity) return min;
    }
    let key = Infinity;
    for (const [k, b] of this.buckets) if (k < key && b.next !== b) key = k;
    return key === Infinity ? this.clock.now() + this.slotCount * this.tickMs : key * this.slotCount * this.tickMs;
  }
}
