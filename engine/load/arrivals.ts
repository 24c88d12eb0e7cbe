// Open-model arrival times, computed from the start of the run so they never
// drift: arrival k happens when the integral of the rate reaches k. Phases
// hold a rate or ramp linearly from rate to rampTo (k6's ramping-arrival-rate).
// Poisson arrivals (load.arrivals: poisson) are the same curve at random
// counts: arrival k happens when the integral reaches E1 + ... + E(k+1), each E
// exponential of mean 1 (a unit-rate Poisson process put on the rate's clock),
// so gaps are exponential with the set mean rate, ramps included. The draws
// come from the run's seed and the load's stream (the roles of one scenario
// share one, so that paired roles arrive together), never from the worker: every part
// computes the same whole schedule and keeps its own arrivals (segment.ts), so
// the arrivals of all parts together are one Poisson process, the same for any
// number of workers and shards, and the same again with the same --seed.

import { Random, streamSeed, STREAM_ARRIVALS } from '../random/index.js';
import type { LoadSettings, Phase } from '../scenario/index.js';

export class ArrivalSchedule {
  private readonly phases: Phase[];
  /** Arrivals before each phase, and phase start times. */
  private readonly before: number[] = [];
  private readonly starts: number[] = [];

  /** Poisson: the unit-rate generator, how many of its gaps are summed, and their sum. */
  private readonly rng: Random | undefined;
  private drawn = 0;
  private sum = 0;

  /** `seed` and `load.stream` name the random stream of Poisson arrivals (unused for uniform ones). */
  constructor(load: LoadSettings, seed = 0) {
    if (load.arrivals === 'poisson') this.rng = new Random(streamSeed(seed, STREAM_ARRIVALS, load.stream ?? 0));
    this.phases = load.phases ?? [{ durationMs: load.durationMs ?? Infinity, rate: load.rate ?? 1 }];
    let count = 0;
    let t = 0;
    for (const p of this.phases) {
      this.before.push(count);
      this.starts.push(t);
      count += (p.durationMs / 1000) * (p.rate + (p.rampTo ?? p.rate)) / 2;
      t += p.durationMs;
    }
  }

  /**
   * Intended time (ms from start) of arrival k (0-based), or undefined past the last phase.
   * Poisson arrivals are drawn in order: k never goes back (the runner asks k, k + parts, ...).
   */
  timeOf(k: number): number | undefined {
    if (!this.rng) return this.timeAtCount(k); // arrival k happens when the cumulative count reaches k
    if (k < this.drawn - 1) throw new RangeError(`poisson arrivals are drawn in order: asked ${k} after ${this.drawn - 1}`);
    while (this.drawn <= k) {
      this.sum -= Math.log(this.rng.nextOpen());
      this.drawn++;
    }
    return this.timeAtCount(this.sum);
  }

  private timeAtCount(target: number): number | undefined {
    for (let i = 0; i < this.phases.length; i++) {
      const p = this.phases[i]!;
      const r0 = p.rate;
      const r1 = p.rampTo ?? p.rate;
      const n = target - this.before[i]!;
      const phaseTotal = (p.durationMs / 1000) * (r0 + r1) / 2;
      if (n >= phaseTotal && i < this.phases.length - 1) continue;
      if (n >= phaseTotal && p.durationMs !== Infinity) return undefined;
      // Solve n = r0*s + (r1-r0)/(2D)*s^2 for s (seconds into the phase).
      const D = p.durationMs / 1000;
      const a = D === Infinity ? 0 : (r1 - r0) / (2 * D);
      let s: number;
      if (Math.abs(a) < 1e-12) {
        if (r0 <= 0) return undefined;
        s = n / r0;
      } else {
        const disc = r0 * r0 + 4 * a * n;
        if (disc < 0) return undefined;
        s = (-r0 + Math.sqrt(disc)) / (2 * a);
      }
      return this.starts[i]! + s * 1000;
    }
    return undefined;
  }
}
