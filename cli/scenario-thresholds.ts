// The thresholds of `run` and `validate`, checked before any traffic by one
// rule: a scenario file's thresholds parse and name steps and roles of that
// scenario (an error at the threshold's file:line:col), a --threshold names
// steps and roles of any scenario of the run.

import { parseThreshold, ThresholdError, unknownThresholdName, type Threshold, type ThresholdNames } from '../engine/metrics/index.js';
import { ScenarioError, type CompiledScenario } from '../engine/scenario/index.js';

export function thresholdNamesOf(scenarios: CompiledScenario[]): ThresholdNames {
  return { scenarios: scenarios.map((s) => ({ name: s.name, roles: s.roles.map((r) => ({ name: r.name, steps: r.metricNames })) })) };
}

/** A scenario file's thresholds, parsed; a bad expression or an unknown name is a ScenarioError at its position. */
export function scenarioThresholds(s: CompiledScenario): Threshold[] {
  const names = thresholdNamesOf([s]);
  return s.thresholds.map((th) => {
    let parsed: Threshold;
    try {
      parsed = { ...parseThreshold(th.expr), source: `${th.file}:${th.line}:${th.col}`, abortOnFail: th.abortOnFail, delayAbortMs: th.delayAbortMs };
    } catch (err) {
      throw new ScenarioError('THRESHOLD_INVALID', th.file, th.line, th.col, (err as Error).message);
    }
    const unknown = unknownThresholdName(parsed, names);
    if (unknown) throw new ScenarioError('THRESHOLD_INVALID', th.file, th.line, th.col, `threshold '${th.expr}': ${unknown}`);
    return parsed;
  });
}

/** The --threshold flags (parsed before the scenarios were loaded), checked against every scenario of the run. */
export function checkFlagThresholds(thresholds: Threshold[], scenarios: CompiledScenario[]): void {
  const names = thresholdNamesOf(scenarios);
  for (const th of thresholds) {
    const unknown = unknownThresholdName(th, names);
    if (unknown) throw new ThresholdError(`--threshold: threshold '${th.expr}': ${unknown}`);
  }
}
