// The verdict: the one rule that says whether a result passed and what the
// exit code is, for `run`, `conform`, `merge` and `report`, from the result
// object alone. It lists every thing that can pass or fail — a conformance
// case, a step of a role, a role's instances, a catalog check, a threshold,
// and the run itself (completed, workers, counts balance) — and the result
// passed when none failed. The reporters show these items and nothing else:
// JUnit makes a testcase of each, the console lists the failed ones, so the
// counts they print are the same by construction.

import type { CaseOutcome, RoleResult, RunResult, StepResult } from './result.js';
import { checkBalance, isStepReason } from './result.js';
import { formatMeasured } from './thresholds.js';

/** The exit codes of cli/exit-codes.ts (EXIT) that a verdict can give; a test holds them equal. */
export const VERDICT_EXIT = { OK: 0, FAILED: 1, CANNOT_RUN: 3, INTERRUPTED: 130, TERMINATED: 143 } as const;

export type ItemKind = 'case' | 'step' | 'instances' | 'check' | 'threshold' | 'run';

/** One thing that passed, failed or was skipped (not applicable, not run, never reached). */
export interface VerdictItem {
  kind: ItemKind;
  /** Where it belongs: the suite (cases), `scenario.role` (steps, instances), or `checks`, `thresholds`, `execution` (the run itself). */
  group: string;
  /** The scenario (a suite for cases) and role it belongs to, for cases, steps and instances. */
  scenario?: string;
  role?: string;
  /** The case or step id, with its RFC section where it has one. */
  name: string;
  outcome: 'passed' | 'failed' | 'skipped';
  /** One line: why it failed or was skipped. */
  message?: string;
  /** What was expected, what came, examples. */
  detail?: string;
  /** `expectation`, `timeout`, `conformance`, `threshold`, ...: what kind of failure. */
  type?: string;
  /** Wall time of a case; the mean latency of a step (one execution); 0 where nothing was timed. */
  timeMs: number;
}

export interface Verdict {
  verdict: 'passed' | 'failed';
  exitCode: number;
  /** Why it failed, one short line per kind of failure; empty when it passed. */
  reasons: string[];
  items: VerdictItem[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function caseName(c: Pick<CaseOutcome, 'id' | 'rfc' | 'section'>): string {
  return `${c.id} (${c.rfc} §${c.section})`;
}

function caseItem(group: string, c: CaseOutcome): VerdictItem {
  const base = { kind: 'case' as const, group, scenario: group, name: caseName(c), timeMs: c.durationMs };
  switch (c.outcome) {
    case 'passed':
      return { ...base, outcome: 'passed' };
    case 'notApplicable':
      return { ...base, outcome: 'skipped', message: `not applicable: ${c.reason ?? ''}`.trim() };
    case 'notRun':
      return { ...base, outcome: 'skipped', message: `not run: ${c.reason ?? ''}`.trim() };
    case 'failed':
      return {
        ...base, outcome: 'failed', type: 'conformance',
        message: `${c.rfc} §${c.section}: ${c.title}: ${c.reason ?? ''}`,
        detail: `${c.rfc} §${c.section}: ${c.title}\nexpected: ${c.expected}\ngot: ${c.got}\n${c.reason ?? ''}`,
      };
  }
}

/** How many instances reached the step: sent it, received it, or were judged or timed out at it. */
export function stepReached(st: StepResult): number {
  return Math.max(st.sent, st.received + (st.sent ? 0 : st.timeouts + st.errors), st.passed + st.failed + st.timeouts + st.errors);
}

function stepItem(scenario: string, role: RoleResult, st: StepResult, index: number): VerdictItem {
  const failed = st.failed + st.timeouts + st.errors;
  const reached = stepReached(st);
  const base = { kind: 'step' as const, group: `${scenario}.${role.role}`, scenario, role: role.role, name: st.name, timeMs: st.service.count ? st.service.mean : 0 };
  if (failed === 0 && reached === 0) {
    const why = role.started === 0 ? 'no instance of this role started' : `no instance reached step ${index + 1}${role.failed ? ` (${plural(role.failed, 'instance')} failed before it or elsewhere)` : ''}`;
    return { ...base, outcome: 'skipped', message: `not run: ${why}` };
  }
  if (failed === 0) return { ...base, outcome: 'passed' };
  const parts = Object.entries(st.failures).sort((a, b) => b[1] - a[1]).map(([why, n]) => `${n} × ${why}`);
  if (st.timeouts) parts.push(`${st.timeouts} × no ${st.sent ? 'final response' : 'request'} in time (timeout)`);
  if (st.errors) parts.push(`${st.errors} × abandoned (the instance ended first)`);
  return {
    ...base, outcome: 'failed', type: st.failed ? 'expectation' : st.timeouts ? 'timeout' : 'abandoned',
    message: `${failed} of ${reached} failed: ${parts.join('; ')}`,
    detail: `step ${st.name}: sent ${st.sent}, received ${st.received}, final responses ${st.finals}, codes ${JSON.stringify(st.codes)}\n${parts.join('\n')}`,
  };
}

/** Instances that failed for no step's reason (scenario timeout, stopped, a crashed worker). */
function instancesItem(scenario: string, role: RoleResult): VerdictItem {
  const inSteps = role.steps.reduce((a, st) => a + st.failed + st.timeouts + st.errors, 0);
  const outside = role.failed - inSteps;
  const base = { kind: 'instances' as const, group: `${scenario}.${role.role}`, scenario, role: role.role, name: 'instances', timeMs: role.duration.count ? role.duration.mean : 0 };
  if (role.started === 0) return { ...base, outcome: 'skipped', message: 'not run: no instance of this role started' };
  if (outside <= 0) return { ...base, outcome: 'passed' };
  const reasons = Object.entries(role.failureReasons).filter(([why]) => !isStepReason(why)).sort((a, b) => b[1] - a[1]).map(([why, n]) => `${n} × ${why}`);
  return {
    ...base, outcome: 'failed', type: 'instance',
    message: `${outside} of ${role.started} instances failed outside any step's expectation${reasons.length ? `: ${reasons.join('; ')}` : ''}`,
    detail: Object.entries(role.failureReasons).map(([why, n]) => `${n} × ${why}`).join('\n'),
  };
}

/** Every item of the result, in report order: cases or steps per scenario, then checks, thresholds, the run. */
export function verdictItems(r: RunResult): VerdictItem[] {
  const items: VerdictItem[] = [];
  for (const s of r.scenarios) {
    if (s.cases) {
      for (const c of s.cases) items.push(caseItem(s.name, c));
      continue;
    }
    for (const role of s.roles) {
      role.steps.forEach((st, i) => items.push(stepItem(s.name, role, st, i)));
      items.push(instancesItem(s.name, role));
    }
  }
  for (const c of r.conformance ?? []) {
    const failed = c.severity === 'error' && c.failed > 0;
    items.push({
      kind: 'check', group: 'checks', name: `${c.id} (${c.rfc} §${c.section})`, timeMs: 0, outcome: failed ? 'failed' : 'passed',
      ...(failed ? { type: 'conformance', message: `${c.rfc} §${c.section}: ${c.text} — ${c.failed} of ${c.passed + c.failed} failed; e.g. ${c.examples[0] ?? ''}`, detail: c.examples.join('\n') } : {}),
    });
  }
  for (const th of r.thresholds ?? []) {
    const got = th.value === null ? 'no data' : formatMeasured(th.value, th.unit);
    items.push({
      kind: 'threshold', group: 'thresholds', name: th.expr, timeMs: 0, outcome: th.ok ? 'passed' : 'failed',
      ...(th.ok ? {} : { type: 'threshold', message: `${th.expr}: got ${got}`, detail: `${th.expr}: got ${got}${th.source ? `\n(${th.source})` : ''}` }),
    });
  }
  const interrupted = r.interrupted
    ? r.signal ? `interrupted by ${r.signal}: the run did not finish` : 'interrupted: the run (or a merged shard) did not finish'
    : r.abortedBy ? `stopped early: threshold ${r.abortedBy} failed (abortOnFail)` : undefined;
  items.push({ kind: 'run', group: 'execution', name: 'completed', timeMs: r.durationMs, outcome: interrupted ? 'failed' : 'passed', ...(interrupted ? { type: 'interrupted', message: interrupted } : {}) });
  if (r.kind !== 'conform') {
    const w = r.workerErrors ?? [];
    items.push({
      kind: 'run', group: 'execution', name: 'workers', timeMs: 0, outcome: w.length ? 'failed' : 'passed',
      ...(w.length ? { type: 'worker', message: `${plural(w.length, 'worker error')}: ${w.map((e) => `worker ${e.worker}: ${e.code}`).join(', ')}`, detail: w.map((e) => `worker ${e.worker} failed: ${e.code}: ${e.message}${e.restarted ? ' (replaced)' : ''}`).join('\n') } : {}),
    });
  }
  const balance = checkBalance(r);
  items.push({
    kind: 'run', group: 'execution', name: 'counts balance', timeMs: 0, outcome: balance.length ? 'failed' : 'passed',
    ...(balance.length ? { type: 'balance', message: `counts do not balance (a sipstorm bug): ${balance[0]}`, detail: balance.join('\n') } : {}),
  });
  return items;
}

/** The verdict and exit code of a result: passed when no item failed. */
export function verdictOf(r: RunResult): Verdict {
  const items = verdictItems(r);
  const failed = items.filter((i) => i.outcome === 'failed');
  const count = (kind: ItemKind) => failed.filter((i) => i.kind === kind).length;
  const reasons: string[] = [];
  if (count('case')) reasons.push(`${plural(count('case'), 'case')} failed`);
  if (count('step') || count('instances')) reasons.push(`${plural(r.totals.failed, 'instance')} failed`);
  if (count('check')) reasons.push(`${plural(count('check'), 'MUST check')} failed`);
  if (count('threshold')) reasons.push(`${plural(count('threshold'), 'threshold')} failed`);
  for (const i of failed.filter((x) => x.kind === 'run')) reasons.push(i.message!);
  const passed = failed.length === 0;
  let exitCode: number = passed ? VERDICT_EXIT.OK : VERDICT_EXIT.FAILED;
  if ((r.workerErrors ?? []).length > 0 && r.totals.started === 0) exitCode = VERDICT_EXIT.CANNOT_RUN;
  if (r.signal === 'SIGINT') exitCode = VERDICT_EXIT.INTERRUPTED;
  else if (r.signal === 'SIGTERM') exitCode = VERDICT_EXIT.TERMINATED;
  return { verdict: passed ? 'passed' : 'failed', exitCode, reasons, items };
}

/** Sets totals.verdict and exitCode from verdictOf; returns the verdict. */
export function applyVerdict(r: RunResult): Verdict {
  const v = verdictOf(r);
  r.totals.verdict = v.verdict;
  r.exitCode = v.exitCode;
  return v;
}
