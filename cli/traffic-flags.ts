// The traffic models on the command line of `sipstorm run`: --seed (the
// replay of Poisson arrivals and random pauses), --arrivals, --erlangs with
// --mean-hold, and a mix of weighted scenario files (FILE:WEIGHT ...), which
// is loaded here into one scenario of several roles (engine/scenario/mix.ts).

import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { numberFlag, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import { MAX_SEED } from '../engine/random/index.js';
import {
  applyErlangs, loadScenarios, mixScenarios, parseDuration, parseMixArg, ScenarioError, sharedUserWarnings, type CompileOptions, type CompiledScenario,
} from '../engine/scenario/index.js';
import type { LoadOverrides } from '../engine/load/index.js';

export const trafficFlagSpecs: FlagSpec[] = [
  { name: 'seed', type: 'string', value: 'N', help: `seed of Poisson arrivals and random pauses (0..${MAX_SEED}); the same seed replays the same schedule (default: drawn, and printed)` },
  { name: 'arrivals', type: 'string', value: 'MODEL', help: "open model: 'uniform' (evenly spaced, the default) or 'poisson' (exponential gaps at the same mean rate)" },
  { name: 'erlangs', type: 'string', value: 'N', help: 'open model: keep N instances (calls) running on average; the rate is N / mean hold time (Little\'s law)' },
  { name: 'mean-hold', type: 'string', value: 'TIME', help: "with --erlangs: the mean time an instance lasts (default: the mean of its pauses added up)" },
];

export interface RunScenarios {
  scenarios: CompiledScenario[];
  /** The overrides for the load runner: a mix's rate and total are in its roles, not here. */
  overrides: LoadOverrides;
  /** The run's seed, when something in it is random (or --seed was given). */
  seed?: number;
  mix?: { file: string; weight: number }[];
}

/** Whether anything in the scenario draws random numbers under these overrides. */
function usesRandom(s: CompiledScenario, o: LoadOverrides): boolean {
  return s.roles.some((r) => (o.arrivals ?? r.load.arrivals) === 'poisson' || r.steps.some((st) => st.kind === 'pause' && st.pause.type !== 'fixed'));
}

/**
 * Loads the scenarios of a run (a plain list, or a mix when every file is FILE:WEIGHT), applies --erlangs and
 * --arrivals, and sets the seed. Bad input is a UsageError or a ScenarioError (exit 2). `maxRate`: the safety
 * ceiling --rate has, for a rate --erlangs makes.
 */
export function loadRunScenarios(
  positionals: string[], f: ParsedArgs['flags'], given: LoadOverrides, opts: CompileOptions, maxRate = Infinity,
): RunScenarios {
  const overrides: LoadOverrides = { ...given };
  if (f.arrivals !== undefined) {
    if (f.arrivals !== 'uniform' && f.arrivals !== 'poisson') throw new UsageError(`--arrivals must be 'uniform' or 'poisson', got '${f.arrivals}'`);
    overrides.arrivals = f.arrivals;
  }
  const erlangs = numberFlag(f, 'erlangs');
  if (erlangs !== undefined && !(erlangs > 0)) throw new UsageError(`--erlangs must be more than 0, got '${f.erlangs}'`);
  let meanHold: number | undefined;
  if (f['mean-hold'] !== undefined) {
    meanHold = parseDuration(String(f['mean-hold']));
    if (meanHold === undefined || meanHold <= 0) throw new UsageError(`--mean-hold must be a time like 90s or 2m, got '${f['mean-hold']}'`);
    if (erlangs === undefined) throw new UsageError('--mean-hold goes with --erlangs');
  }
  if (erlangs !== undefined && overrides.rate !== undefined) throw new UsageError('--erlangs sets the rate: give --erlangs or --rate, not both');

  // A positional FILE:WEIGHT names a mix, unless a file of that very name exists.
  const weighted = positionals.map((p) => (existsSync(p) ? undefined : parseMixArg(p)));
  let scenarios: CompiledScenario[];
  let mix: RunScenarios['mix'];
  if (weighted.some((w) => w !== undefined)) {
    const plain = positionals.filter((_, i) => weighted[i] === undefined);
    if (plain.length) throw new UsageError(`a mix gives every scenario a weight (FILE:WEIGHT): '${plain[0]}' has none`);
    if (erlangs !== undefined) throw new UsageError('--erlangs applies to one scenario, not a mix: give the mix its --rate');
    if (overrides.rate === undefined) throw new UsageError('a mix needs --rate: the arrival rate its scenarios share by weight');
    if (overrides.total === undefined && overrides.durationMs === undefined) throw new UsageError('a mix needs --total N or --duration TIME (the files\' own totals are not added up)');
    mix = weighted.map((w) => w!);
    const entries = mix.map((m) => {
      if (!(m.weight > 0)) throw new UsageError(`a weight in a mix must be more than 0: '${m.file}:${m.weight}'`);
      const loaded = loadScenarios([m.file], opts);
      if (loaded.length !== 1) throw new UsageError(`a mix names scenario files, not directories: '${m.file}'`);
      return { scenario: loaded[0]!, weight: m.weight };
    });
    scenarios = [mixScenarios(entries, overrides.rate, overrides.total)];
    const fileOf = entries.flatMap((e, i) => e.scenario.roles.map(() => i));
    for (const w of sharedUserWarnings(scenarios[0]!, fileOf, overrides.users)) process.stderr.write(`${w}\n`);
    // Each role of the mix has its share of the rate and the total already.
    delete overrides.rate;
    delete overrides.total;
  } else scenarios = loadScenarios(positionals, opts);

  if (erlangs !== undefined) {
    for (const s of scenarios) {
      for (const r of s.roles) {
        const problem = applyErlangs(r.load, erlangs, r.steps, meanHold);
        if (problem) throw new ScenarioError('SCENARIO_LOAD', s.file, r.steps[0]?.line ?? 1, r.steps[0]?.col ?? 1, `--erlangs: role '${r.name}': ${problem.replace(/'meanHold'/, '--mean-hold')}`);
        if (r.load.rate! > maxRate) {
          throw new UsageError(`--erlangs ${erlangs} at a mean hold of ${r.load.meanHoldMs! / 1000}s is ${r.load.rate!.toFixed(1)}/s, above the safety ceiling of ${maxRate}/s; add --i-know-what-i-am-doing if you mean it`);
        }
      }
    }
  }

  let seed: number | undefined;
  if (f.seed !== undefined) {
    seed = numberFlag(f, 'seed', { integer: true, min: 0 });
    if (seed! > MAX_SEED) throw new UsageError(`--seed must be at most ${MAX_SEED}, got '${f.seed}'`);
  } else if (scenarios.some((s) => usesRandom(s, overrides))) {
    if (f.shard !== undefined) throw new UsageError('--shard with Poisson arrivals or random pauses needs --seed N: the shards must share one schedule');
    seed = randomInt(MAX_SEED + 1);
  }
  if (seed !== undefined) for (const s of scenarios) s.seed = seed;
  return { scenarios, overrides, seed, mix };
}
