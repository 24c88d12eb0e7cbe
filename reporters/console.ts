// The console: the end-of-run summary (a table per step, thresholds, verdict)
// and the live progress line (updating in place on a TTY, plain periodic lines
// in CI, nothing with --quiet). Reads only the result object. Every text that
// may come from a peer goes through printable(): no terminal escapes from servers.

import { reasonText, type RunResult, type ScenarioResult } from '../engine/metrics/result.js';
import { formatMeasured } from '../engine/metrics/thresholds.js';
import { caseName, verdictOf, type Verdict } from '../engine/metrics/verdict.js';
import { mediaText } from './media-view.js';
import { generatorLine, ms, partialNote, pddText, printable, sessionsText, stepRow, table } from './format.js';

export function scenarioSummary(s: ScenarioResult): string {
  const out: string[] = [];
  for (const r of s.roles) {
    const title = printable(s.roles.length > 1 || r.role !== 'main' ? `${s.name} / ${r.role}` : s.name);
    out.push(`${title}: ${r.started} started, ${r.passed} passed, ${r.failed} failed${r.running ? `, ${r.running} running` : ''}${r.dropped ? `, ${r.dropped} dropped` : ''}`);
    const rows = [['  step', 'sent', 'recv', '1xx', '2xx', '3xx', '4xx', '5xx', '6xx', 'challenges', 'timeout', 'p50', 'p90', 'p99', 'p99.9', 'max', 'corr.p99']];
    const delays: string[] = [];
    for (const st of r.steps) {
      const { sent, classes, challenges } = stepRow(st);
      const lat = st.service.count > 0;
      const pdd = pddText(st);
      if (pdd) delays.push(`  ${st.name}: ${pdd}`);
      rows.push([
        `  ${printable(st.name)}`, String(sent), String(st.received), ...classes.map(String), String(challenges), String(st.timeouts),
        lat ? ms(st.service.p50) : '-', lat ? ms(st.service.p90) : '-', lat ? ms(st.service.p99) : '-', lat ? ms(st.service.p999) : '-',
        lat ? ms(st.service.max) : '-', lat ? ms(st.corrected.p99) : '-',
      ]);
    }
    out.push(table(rows));
    out.push(...delays);
    const reasons = Object.entries(r.failureReasons).sort((a, b) => b[1] - a[1]).slice(0, 5);
    for (const [reason, n] of reasons) {
      // One example text is every failure of the kind said in full (examples are distinct): show it.
      // Several: the kind, and one of them (the server's reason phrase or value).
      const examples = r.failureExamples?.[reason] ?? [];
      const example = examples[0];
      if (examples.length === 1) out.push(`  ✗ ${n} × ${printable(reasonText(example!))}`);
      else {
        const detail = example === undefined ? '' : example.startsWith(reason) ? example.slice(reason.length).trim() : example;
        out.push(`  ✗ ${n} × ${printable(reasonText(reason))}${detail ? ` (e.g. ${printable(detail)})` : ''}`);
      }
    }
  }
  const sessions = sessionsText(s);
  if (sessions) out.push(`  ${sessions}`);
  if (s.media) out.push(`  ${mediaText(s.media)}`);
  const t = s.transport;
  const extras: string[] = [];
  if (t.retransmissionsSent) extras.push(`${t.retransmissionsSent} retransmissions sent`);
  if (t.retransmissionsReceived) extras.push(`${t.retransmissionsReceived} received`);
  if (t.unexpectedRequests) extras.push(`${t.unexpectedRequests} unexpected requests`);
  const parse = Object.values(t.parseErrors).reduce((a, b) => a + b, 0);
  if (parse) extras.push(`${parse} unparsable messages`);
  if (extras.length) out.push(`  ${extras.join(', ')}`);
  out.push(`  ${generatorLine(s.health)}`);
  return out.join('\n');
}

/** The end-of-run summary; a conformance result gets conformSummary. Its verdict is verdictOf's, nothing else. */
export function runSummary(r: RunResult): string {
  if (r.kind === 'conform') return conformSummary(r);
  const v = verdictOf(r);
  const out = r.scenarios.map(scenarioSummary);
  out.push(...checksAndThresholds(r));
  for (const e of r.workerErrors) out.push(`worker ${e.worker} failed: ${printable(e.code)}: ${printable(e.message)}${e.restarted ? ' (replaced; its running instances counted as failed)' : ''}`);
  if (r.abortedBy) out.push(`stopped early: threshold ${r.abortedBy} failed (abortOnFail)`);
  const t = r.totals;
  const partial = partialNote(r);
  if (partial) out.push(partial);
  const others = otherReasons(v, ['instance']);
  out.push(`${verdictWord(v)}: ${t.started} started, ${t.passed} passed, ${t.failed} failed${t.dropped ? `, ${t.dropped} dropped` : ''}${partial ? ` (partial: ${r.shardSet!.missing.length} of ${r.shardSet!.count} shards missing)` : ''}${others}`);
  return out.join('\n');
}

/**
 * `sipstorm conform`'s summary: every failed case (all of them, each with its RFC section and what came), how many
 * were not run, the catalog and the closing line `passed / failed / not applicable / not run`, the counts of
 * totals in the JSON and of testcases in the JUnit.
 */
export function conformSummary(r: RunResult): string {
  const v = verdictOf(r);
  const out: string[] = [];
  // The cases are the verdict's case items; listed from the cases for their reason without the title.
  const cases = r.scenarios.flatMap((s) => (s.cases ?? []).map((c) => ({ suite: s.name, ...c })));
  const failed = cases.filter((c) => c.outcome === 'failed');
  if (failed.length) out.push(`failed cases (${failed.length}):`);
  for (const c of failed) out.push(`  ✗ ${c.suite} ${caseName(c)}: ${c.reason ?? ''}`);
  const notRun = cases.filter((c) => c.outcome === 'notRun');
  if (notRun.length) out.push(`  - ${notRun.length} case${notRun.length === 1 ? '' : 's'} not run: ${notRun[0]!.reason ?? ''}`);
  out.push(...checksAndThresholds(r));
  const t = r.totals;
  out.push(`${verdictWord(v)}: ${t.passed + t.failed + t.notApplicable + t.notRun} cases: ${t.passed} passed, ${t.failed} failed, ${t.notApplicable} not applicable, ${t.notRun} not run${otherReasons(v, ['case'])}`);
  return out.join('\n');
}

function verdictWord(v: Verdict): string {
  return v.verdict === 'passed' ? 'PASSED' : 'FAILED';
}

/** The verdict's reasons other than the counts the closing line already shows. */
function otherReasons(v: Verdict, shown: string[]): string {
  const rest = v.reasons.filter((x) => !shown.some((k) => new RegExp(`^\\d+ ${k}s? failed$`).test(x)));
  return rest.length ? `; ${rest.join('; ')}` : '';
}

function checksAndThresholds(r: RunResult): string[] {
  const out: string[] = [];
  const broken = r.conformance.filter((c) => c.failed > 0);
  if (r.conformance.length) out.push(`conformance: ${r.conformance.length} checks applied, ${broken.length} failed`);
  for (const c of broken) out.push(`  ${c.severity === 'error' ? '✗' : '!'} ${c.id} (${c.rfc} §${c.section}): ${c.failed} of ${c.passed + c.failed} — ${printable(c.examples[0] ?? '')}`);
  if (r.thresholds.length) {
    out.push('thresholds:');
    for (const th of r.thresholds) out.push(`  ${th.ok ? '✓' : '✗'} ${th.expr}  (${th.value === null ? 'no data' : formatMeasured(th.value, th.unit)})`);
  }
  return out;
}

export class ProgressPrinter {
  private lastLen = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {}

  update(label: string, elapsedMs: number, p: { started: number; passed: number; failed: number; active: number; rate: number; asked?: number; p50?: number; p99?: number; retrans: number }): void {
    if (this.quiet) return;
    const line = `${printable(label)} ${(elapsedMs / 1000).toFixed(0)}s  rate ${p.rate}/s${p.asked ? ` (asked ${p.asked})` : ''}  active ${p.active}  passed ${p.passed}  failed ${p.failed}${p.p50 !== undefined ? `  p50 ${ms(p.p50)} p99 ${ms(p.p99 ?? 0)}` : ''}  retrans ${p.retrans}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line.padEnd(this.lastLen)}`);
      this.lastLen = line.length;
    } else {
      this.stream.write(line + '\n');
    }
  }

  end(): void {
    if (!this.quiet && this.stream.isTTY && this.lastLen) this.stream.write('\n');
    this.lastLen = 0;
  }
}
