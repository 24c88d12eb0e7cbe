// How many worker threads a run gets when --workers does not say: as many as
// its load needs, not one per core. A worker has its own V8 heap, collector
// and compiler threads, so on a small machine a second one costs more CPU
// than it saves until the first nears what it can carry (README "Workers").
// The load is read from the scenarios (with the command line's overrides):
// each open-model role's peak arrival rate times the messages it exchanges per
// instance (its send, raw, recv and await steps); a closed-model role has no
// rate to read, so it keeps the old default, one worker per core.

import type { CompiledRole, CompiledScenario } from '../scenario/index.js';
import { effectiveLoad, type LoadOverrides } from './runner.js';

/**
 * Transactions a second one worker carries with room to spare: 10,000, about 3,300 calls a second of
 * scenarios/uac-call.yaml (INVITE, ACK, BYE), where one worker measured clean at 3,000 calls/s using about
 * 40% of a core (npm run bench, README "Figures"), leaving the rest for bursts and the collector.
 */
export const WORKER_TRANSACTIONS_PER_SECOND = 10_000;

/** The highest arrival rate of a role's load (its rate, or the highest rate or ramp end of its phases). */
export function peakRate(role: CompiledRole, overrides: LoadOverrides): number | undefined {
  const load = effectiveLoad(role.load, overrides);
  if (load.model === 'closed') return undefined;
  let peak = load.rate ?? 0;
  for (const p of load.phases ?? []) peak = Math.max(peak, p.rate, p.rampTo ?? 0);
  return peak;
}

function transactionsPerInstance(role: CompiledRole): number {
  let n = 0;
  for (const s of role.steps) if (s.kind === 'send' || s.kind === 'raw' || s.kind === 'recv' || s.kind === 'await') n++;
  return Math.max(1, n);
}

/** Transactions a second a scenario asks for at its peak, over all its roles; undefined with a closed-model role (no rate to read). */
export function transactionsPerSecond(sc: CompiledScenario, overrides: LoadOverrides): number | undefined {
  let perSecond = 0;
  for (const role of sc.roles) {
    const rate = peakRate(role, overrides);
    if (rate === undefined) return undefined;
    perSecond += rate * transactionsPerInstance(role);
  }
  return perSecond;
}

/** The default number of workers for a run of these scenarios (run one after the other): the most any of them needs. */
export function workersByLoad(scenarios: CompiledScenario[], overrides: LoadOverrides, cores: number): number {
  let most = 1;
  for (const sc of scenarios) {
    const perSecond = transactionsPerSecond(sc, overrides);
    if (perSecond === undefined) return Math.max(1, cores);
    most = Math.max(most, Math.ceil(perSecond / WORKER_TRANSACTIONS_PER_SECOND));
  }
  return Math.max(1, Math.min(cores, most));
}
