// A traffic mix: several scenario files in one run, sharing one arrival rate
// by weight (`sipstorm run calls.yaml:70 register.yaml:20 options.yaml:10`),
// and one report. The mix is one compiled scenario whose roles are the roles
// of the files, renamed after their scenario, each running at its share of the
// rate: rate x weight / sum of weights. Independent Poisson streams of those
// rates add up to one Poisson process of the whole rate in which each arrival
// is of a scenario with its weight's probability (the superposition theorem);
// evenly spaced ones keep each scenario to its share exactly. A --total is split
// by weight (largest remainders), so the counts add up to it.

import { ScenarioError } from './errors.js';
import type { CompiledRole, CompiledScenario } from './types.js';

export interface MixEntry {
  scenario: CompiledScenario;
  weight: number;
}

/**
 * The roles of a mix play their users in one runtime, where a request that comes in out of dialog goes to the
 * instance of the user it is addressed to: a role that waits for requests (recv steps) must not share user
 * names with another file's roles. One warning line per such pair (user patterns and ranges compared as the
 * runner numbers them: users.count, else --users, else the role's total, else 1000).
 */
export function sharedUserWarnings(mix: CompiledScenario, files: number[], usersOverride?: number): string[] {
  const range = (r: CompiledRole) => {
    const count = usersOverride ?? r.users.count ?? r.load.total ?? 1000;
    return [r.users.first, r.users.first + count - 1] as const;
  };
  const out: string[] = [];
  mix.roles.forEach((a, i) => {
    if (!a.steps.some((st) => st.kind === 'recv')) return;
    mix.roles.forEach((b, j) => {
      if (files[i] === files[j] || a.users.user !== b.users.user || a.users.csv || b.users.csv) return;
      const [a0, a1] = range(a);
      const [b0, b1] = range(b);
      if (a0 <= b1 && b0 <= a1) {
        out.push(`sipstorm: warning: mix: role '${a.name}' waits for requests as users ${a.users.user} ${a0}..${a1}, and role '${b.name}' plays users ${b0}..${b1} too: requests may reach the wrong instance; give the files user ranges of their own (users.first)`);
      }
    });
  });
  return out;
}

/** `FILE:WEIGHT` on the command line: the file and its weight, or undefined for a plain file name. */
export function parseMixArg(arg: string): { file: string; weight: number } | undefined {
  const m = /^(.+):(\d+(?:\.\d+)?)$/.exec(arg);
  if (!m) return undefined;
  return { file: m[1]!, weight: Number(m[2]) };
}

/** How many of `total` each weight gets: proportional, the remainders to the largest fractions, adding up to total. */
export function splitByWeight(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left-- <= 0) break;
    out[i]!++;
  }
  return out;
}

/**
 * One scenario of the mix. `rate` is the whole mix's; `total`, when given, is split by weight. Errors name the
 * file of the scenario at fault (a mix is bad input on the command line, of the files it names).
 */
export function mixScenarios(entries: MixEntry[], rate: number, total?: number): CompiledScenario {
  const weights = entries.map((e) => e.weight);
  const sum = weights.reduce((a, b) => a + b, 0);
  const totals = total !== undefined ? splitByWeight(total, weights) : undefined;
  const used = new Set<string>();
  const roles: CompiledRole[] = [];
  const vars: Record<string, string> = {};
  entries.forEach((e, i) => {
    const s = e.scenario;
    if (e.weight <= 0) throw new ScenarioError('SCENARIO_MIX', s.file, 1, 1, `a weight in a mix must be more than 0, got ${e.weight}`);
    let base = s.name;
    for (let n = 2; used.has(base); n++) base = `${s.name}#${n}`;
    used.add(base);
    const nameOf = (role: string) => (s.roles.length === 1 ? base : `${base}-${role}`);
    for (const r of s.roles) {
      if (r.load.model === 'closed') {
        throw new ScenarioError('SCENARIO_MIX', s.file, 1, 1, `role '${r.name}' has a closed load model: the scenarios of a mix share one arrival rate (open model)`);
      }
      // The file's own Poisson stream, shared by its roles (paired roles keep arriving together).
      const load = { ...r.load, rate: (rate * e.weight) / sum, stream: i };
      delete load.phases;
      delete load.durationMs;
      delete load.erlangs;
      delete load.meanHoldMs;
      if (totals) load.total = totals[i]!;
      else delete load.total;
      roles.push({ ...r, name: nameOf(r.name), load, ...(r.peer !== undefined ? { peer: nameOf(r.peer) } : {}) });
    }
    for (const [k, v] of Object.entries(s.vars)) {
      if (Object.hasOwn(vars, k) && vars[k] !== v) {
        throw new ScenarioError('SCENARIO_MIX', s.file, 1, 1, `'vars' ${k} is '${v}' here but '${vars[k]}' in an earlier scenario of the mix: give it once with --var`);
      }
      vars[k] = v;
    }
  });
  const first = entries[0]!.scenario;
  const otherAnswer = entries.find((e) => e.scenario.autoAnswer !== first.autoAnswer);
  if (otherAnswer) {
    throw new ScenarioError('SCENARIO_MIX', otherAnswer.scenario.file, 1, 1, `'autoAnswer' differs from ${first.file}'s: the scenarios of a mix share one setting`);
  }
  return {
    file: entries.map((e) => `${e.scenario.file}:${e.weight}`).join(' '),
    name: `mix(${entries.map((e) => `${e.scenario.name}:${e.weight}`).join(',')})`,
    description: `a mix of ${entries.length} scenarios at ${rate}/s`,
    target: entries.find((e) => e.scenario.target)?.scenario.target,
    timeoutMs: Math.max(...entries.map((e) => e.scenario.timeoutMs)),
    roles,
    thresholds: entries.flatMap((e) => e.scenario.thresholds),
    vars,
    autoAnswer: first.autoAnswer,
  };
}
