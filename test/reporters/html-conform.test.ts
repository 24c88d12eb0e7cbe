// The HTML report of `sipstorm conform` shows a table per RFC section
// (passed, failed, not applicable, not run) that adds up to the cases the
// result records, instead of latency charts of one sample per case.

import t from 'tap';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

t.test('conform report: cases per RFC section', async (t) => {
  const r = await runCli(['conform', '--suite', 'register,message'], { keep: true });
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 0, r.out);
  const html = readFileSync(join(r.dir, 'report.html'), 'utf8');
  const rows = [...html.matchAll(/<tr><td>(RFC [^<]+)<\/td><td>(\d+)<\/td><td class="[^"]*">(\d+)<\/td><td>(\d+)<\/td><td>(\d+)<\/td>/g)].map((m) => ({
    section: m[1]!, passed: Number(m[2]), failed: Number(m[3]), notApplicable: Number(m[4]), notRun: Number(m[5]),
  }));
  const cases = r.result.scenarios.flatMap((s: { cases: { rfc: string; section: string; outcome: string }[] }) => s.cases);
  t.ok(rows.length >= 2, `one row per section (${rows.length})`);
  t.equal(rows.reduce((a, x) => a + x.passed + x.failed + x.notApplicable + x.notRun, 0), cases.length, 'the rows add up to the cases');
  for (const row of rows) {
    const inSection = cases.filter((c: { rfc: string; section: string }) => `${c.rfc} §${c.section}` === row.section);
    t.equal(row.passed, inSection.filter((c: { outcome: string }) => c.outcome === 'passed').length, `${row.section}: passed as the cases say`);
  }
  t.equal(rows.map((x) => x.section).join('\n'), [...rows.map((x) => x.section)].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join('\n'), 'sections in RFC order');
  t.notMatch(html, /class="latency-chart"/, 'no one-sample latency charts');
});
