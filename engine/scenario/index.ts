// Scenarios: the public surface of engine/scenario.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenarioFile, type CompileOptions } from './compile.js';
import { ScenarioError } from './errors.js';
import type { CompiledScenario } from './types.js';

export { compileScenarioText, loadScenarioFile, parseCodeSpec, BUILTIN_VARIABLES, type CompileOptions } from './compile.js';
export { ScenarioError, ScenarioErrors } from './errors.js';
export { parseDuration } from './duration.js';
export { applyErlangs, meanHoldOf } from './erlang.js';
export { mixScenarios, parseMixArg, sharedUserWarnings, splitByWeight, type MixEntry } from './mix.js';
export { scenarioDigest } from './digest.js';
export { compileTemplate, escapeRegex, renderTemplate, type Template, type TemplateVars } from './template.js';
export * from './types.js';

/** Files named on the command line: a directory means every *.yaml in it (not recursive), sorted. */
export function scenarioFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new ScenarioError('SCENARIO_UNREADABLE', p, 1, 1, 'no such file or directory');
    }
    if (st.isDirectory()) {
      const files = readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).sort();
      if (files.length === 0) throw new ScenarioError('SCENARIO_UNREADABLE', p, 1, 1, 'no *.yaml scenario in this directory');
      out.push(...files.map((f) => join(p, f)));
    } else out.push(p);
  }
  return out;
}

export function loadScenarios(paths: string[], opts: CompileOptions = {}): CompiledScenario[] {
  return scenarioFiles(paths).map((p) => loadScenarioFile(p, opts));
}
export { compileSafeRegex, SafeRegex, RegexError, MAX_PROGRAM, MAX_SUBJECT, MAX_WORK } from './safe-regex.js';

