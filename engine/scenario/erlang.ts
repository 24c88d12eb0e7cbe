// The Erlang setting of the open model: a target of N instances running at
// once (N erlangs of calls) at a mean hold time gives the arrival rate by
// Little's law, rate = N / mean hold. Unless given, the mean hold is what the
// role's pause steps add up to on average (loops counted as often as they
// run); the time the requests themselves take is not in it.

import { meanOf } from '../random/index.js';
import type { CompiledStep, LoadSettings } from './types.js';

/** The mean of a role's pauses added up, in ms (branches and gotos are not followed: a straight run). */
export function meanHoldOf(steps: CompiledStep[]): number {
  let total = 0;
  const repeat: number[] = [1];
  for (const s of steps) {
    if (s.kind === 'loop-enter') repeat.push(repeat[repeat.length - 1]! * s.count);
    else if (s.kind === 'loop-next') repeat.pop();
    else if (s.kind === 'pause') total += meanOf(s.pause) * repeat[repeat.length - 1]!;
  }
  return total;
}

/** Why `erlangs` cannot give a rate for these steps, or undefined (then `load` has its rate). */
export function applyErlangs(load: LoadSettings, erlangs: number, steps: CompiledStep[], meanHoldMs?: number): string | undefined {
  const hold = meanHoldMs ?? meanHoldOf(steps);
  if (!(hold > 0) || hold === Infinity) {
    return hold === Infinity
      ? `'erlangs' needs a finite mean hold time: a pareto pause of shape 1 or less has none; set 'meanHold'`
      : `'erlangs' needs a mean hold time: a pause step (the call's hold), or 'meanHold'`;
  }
  load.model = 'open';
  load.erlangs = erlangs;
  load.meanHoldMs = hold;
  load.rate = erlangs / (hold / 1000);
  delete load.phases;
  return undefined;
}
