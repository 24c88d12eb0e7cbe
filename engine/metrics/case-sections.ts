// Conformance cases counted per RFC section (passed, failed, not applicable,
// not run), from the cases a conform result records: what the console prints
// after `sipstorm conform` and the HTML report shows as its table.

import type { CaseOutcome } from './result.js';

export interface SectionRow {
  section: string;
  passed: number;
  failed: number;
  notApplicable: number;
  notRun: number;
  /** Ids of the cases that failed in this section. */
  failedCases: string[];
}

/** Cases per RFC section, sections in RFC and section order (numbers compared as numbers). */
export function casesBySection(cases: readonly CaseOutcome[]): SectionRow[] {
  const rows = new Map<string, SectionRow>();
  for (const c of cases) {
    const key = `${c.rfc} §${c.section}`;
    const row = rows.get(key) ?? { section: key, passed: 0, failed: 0, notApplicable: 0, notRun: 0, failedCases: [] };
    row[c.outcome]++;
    if (c.outcome === 'failed') row.failedCases.push(c.id);
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.section.localeCompare(b.section, 'en', { numeric: true }));
}
