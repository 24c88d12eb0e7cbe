// Time sources. Everything that schedules takes a Clock so tests can drive
// time by hand (ManualClock) and the transaction timers run without waiting.

import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds, monotonic, fractional allowed. */
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
