// Turns the cases of a suite into the result a load run has (a scenario per
// suite, a step per case, for the tables), plus the cases themselves as they
// ended (passed, failed, not applicable, not run; expected, got, wall time),
// which the verdict and the JUnit testcases are made of. A failed case is a
// failed step whose reason cites the RFC and section, with its messages as a
// ladder. Role counts: started = passed + failed + not applicable; cases not
// run were never started.

import { casesBySection, emptyRunSnapshot, RoleMetrics, scenarioResult, type CaseOutcome, type FailureSample, type ScenarioResult, type SectionRow } from '../metrics/index.js';
import type { CheckCounts } from '../conformance/index.js';
import { countFailed, countFinal, countPassed, countTimeout } from '../ua/step-outcome.js';
import { ladderEntries } from '../ua/failure-ladder.js';
import type { CaseResult } from './runner.js';
import type { Suite } from './load.js';

export function caseLabel(r: CaseResult): string {
  return `${r.case.id} (${r.case.rfc} §${r.case.section})`;
}

export function caseFailure(r: CaseResult): string {
  return `${r.case.rfc} §${r.case.section}: ${r.case.title}: ${r.problem}`;
}

/** What the case expects, step by step, in the suite's own terms (`405|501`, `a NOTIFY from the server`). */
export function caseExpected(r: CaseResult): string {
  const one = (st: CaseResult['case']['steps'][number]) =>
    st.receive !== undefined ? `a ${st.receive.toUpperCase()} from the server` : st.final !== undefined ? `${st.expect.text} (final answer to the ${st.final})` : st.expect.text;
  const steps = r.case.steps;
  return steps.length === 1 ? one(steps[0]!) : steps.map((st, i) => `step ${i + 1}: ${one(st)}`).join('; ');
}

/** The case as the result records it: passed, failed, not applicable or not run, with what was expected and what came. */
export function caseOutcome(r: CaseResult): CaseOutcome {
  const outcome = r.notRun ? 'notRun' : r.problem ? 'failed' : r.notApplicable ? 'notApplicable' : 'passed';
  const reason = r.notRun ? r.problem?.replace(/^not run: /, '') : r.problem ? r.problem : r.notApplicable;
  return {
    id: r.case.id, rfc: r.case.rfc, section: r.case.section, title: r.case.title, outcome,
    expected: caseExpected(r),
    got: r.notRun ? 'nothing sent' : r.status !== undefined ? `${r.status} ${r.reasonPhrase ?? ''}`.trim() : 'no answer',
    ...(reason ? { reason } : {}),
    durationMs: Math.round(r.ms * 1000) / 1000,
  };
}

export function suiteResult(
  suite: Suite,
  results: CaseResult[],
  startedAt: Date,
  endedAt: Date,
  conformance: Record<string, CheckCounts>,
  local: string,
  remote: string,
): ScenarioResult {
  const role = new RoleMetrics(suite.name, 'cases', results.map(caseLabel));
  const failures: FailureSample[] = [];
  let notApplicable = 0;
  let notRun = 0;
  results.forEach((r, i) => {
    const step = role.steps[i]!;
    // A case not run was never started; one that does not apply ran but neither passed nor failed.
    if (r.notRun) {
      notRun++;
      return;
    }
    role.started++;
    step.sent++;
    // A case is one step to the tables: its last final answer counted as a load run's step counts one (step-outcome.ts).
    if (r.status !== undefined) countFinal(step, r.status, r.ms, r.ms);
    else countTimeout(step); // the step tables' count of silence; whether silence was right is the case's verdict
    if (!r.problem && r.notApplicable) {
      notApplicable++;
      return;
    }
    role.running++;
    if (r.problem) countFailed(step, caseFailure(r));
    else countPassed(step);
    role.instanceDone(!r.problem, r.ms, r.ms, r.problem ? caseFailure(r) : undefined);
    if (r.problem && failures.length < 20) {
      // Masked already (runner.ts reportLadder, over the bytes as latin1 so that a torture message's invalid UTF-8 stays).
      const ladder = ladderEntries(r.ladder, local, remote, undefined);
      failures.push({ scenario: suite.name, role: 'cases', user: r.case.id, reason: caseFailure(r), ladder });
    }
  });
  const snap = { ...emptyRunSnapshot(), roles: [role.snapshot()], failures, conformance };
  const out = scenarioResult(suite.name, suite.file, snap, startedAt, endedAt, []);
  out.roles[0]!.notApplicable = notApplicable;
  out.roles[0]!.notRun = notRun;
  out.cases = results.map(caseOutcome);
  return out;
}

/** Cases per RFC section: passed, failed, not applicable, not run (the rule of caseOutcome). */
export function bySection(results: CaseResult[]): SectionRow[] {
  return casesBySection(results.map(caseOutcome));
}
