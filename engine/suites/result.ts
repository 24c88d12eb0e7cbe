// Turns the cases of a suite into the result a load run has (a scenario per
// suite, a step per case), so that the JSON, JUnit and HTML reporters serve
// `sipstorm conform` unchanged: a failed case is a failed step whose reason
// cites the RFC and section, with its messages as a ladder.

import { emptyRunSnapshot, RoleMetrics, scenarioResult, type FailureSample, type ScenarioResult } from '../metrics/index.js';
import type { CheckCounts } from '../conformance/index.js';
import type { CaseResult } from './runner.js';
import type { Suite } from './load.js';

export function caseLabel(r: CaseResult): string {
  return `${r.case.id} (${r.case.rfc} §${r.case.section})`;
}

export function caseFailure(r: CaseResult): string {
  return `${r.case.rfc} §${r.case.section}: ${r.case.title}: ${r.problem}`;
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
  results.forEach((r, i) => {
    const step = role.steps[i]!;
    role.started++;
    role.running++;
    if (!r.notRun) {
      step.sent++;
      if (r.status !== undefined) {
        step.finals++;
        step.code(r.status);
        step.latency(r.ms, r.ms);
      } else step.timeouts++;
    }
    if (r.problem) step.fail(caseFailure(r));
    else step.passed++;
    role.instanceDone(!r.problem, r.ms, r.ms, r.problem ? caseFailure(r) : undefined);
    if (r.problem && !r.notRun && failures.length < 20) {
      const ladder = r.ladder.map((m) => {
        const raw = m.data.toString('utf8');
        const eol = raw.indexOf('\r\n');
        return { t: Math.round(m.t * 1000) / 1000, dir: m.dir, local, remote, firstLine: eol < 0 ? raw : raw.slice(0, eol), raw };
      });
      failures.push({ scenario: suite.name, role: 'cases', user: r.case.id, reason: caseFailure(r), ladder });
    }
  });
  const snap = { ...emptyRunSnapshot(), roles: [role.snapshot()], failures, conformance };
  return scenarioResult(suite.name, suite.file, snap, startedAt, endedAt, []);
}

export interface SectionRow {
  section: string;
  passed: number;
  failed: number;
  notApplicable: number;
  notRun: number;
}

/** Cases per RFC section: passed, failed, not applicable, not run. */
export function bySection(results: CaseResult[]): SectionRow[] {
  const rows = new Map<string, SectionRow>();
  for (const r of results) {
    const key = `${r.case.rfc} §${r.case.section}`;
    const row = rows.get(key) ?? { section: key, passed: 0, failed: 0, notApplicable: 0, notRun: 0 };
    if (r.notRun) row.notRun++;
    else if (r.problem) row.failed++;
    else if (r.notApplicable) row.notApplicable++;
    else row.passed++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.section.localeCompare(b.section, 'en', { numeric: true }));
}
