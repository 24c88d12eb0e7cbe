// The conform report's table per RFC section: how many cases passed, failed,
// did not apply or did not run, and which failed, read from the result's cases.

import { casesBySection } from '../engine/metrics/case-sections.js';
import type { CaseOutcome } from '../engine/metrics/result.js';
import { esc } from './html-charts.js';

export function rfcSectionTable(cases: readonly CaseOutcome[]): string {
  const rows = casesBySection(cases)
    .map((r) => `<tr><td>${esc(r.section)}</td><td>${r.passed}</td><td class="${r.failed ? 'failed' : ''}">${r.failed}</td><td>${r.notApplicable}</td><td>${r.notRun}</td><td class="codes">${esc(r.failedCases.join(', '))}</td></tr>`)
    .join('');
  return `<figure class="rfc-sections"><figcaption>cases per RFC section</figcaption>
<table class="rfc-sections"><thead><tr><th>RFC section</th><th>passed</th><th>failed</th><th>not applicable</th><th>not run</th><th>failed cases</th></tr></thead><tbody>${rows}</tbody></table></figure>`;
}
