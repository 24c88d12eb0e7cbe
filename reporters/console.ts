// The console: the end-of-run summary (a table per step, thresholds, verdict)
// and the live progress line (updating in place on a TTY, plain periodic lines
// in CI, nothing with --quiet). Reads only the result object.

import type { RunResult, ScenarioResult } from '../engine/metrics/result.js';
import { generatorLine, ms, partialNote, pddText, sessionsText, stepRow, table } from './format.js';

export function scenarioSummary(s: ScenarioResult): string {
  const out: string[] = [];
  for (const r of s.roles) {
    const title = s.roles.length > 1 || r.role !== 'main' ? `${s.name} / ${r.role}` : s.name;
    out.push(`${title}: ${r.started} started, ${r.passed} passed, ${r.failed} failed${r.running ? `, ${r.running} running` : ''}${r.dropped ? `, ${r.dropped} dropped` : ''}`);
    const rows = [['  step', 'sent', 'recv', '1xx', '2xx', '3xx', '4xx', '5xx', '6xx', 'challenges', 'timeout', 'p50', 'p90', 'p99', 'p99.9', 'max', 'corr.p99']];
    const delays: string[] = [];
    for (const st of r.steps) {
      const { sent, classes, challenges } = stepRow(st);
      const lat = st.service.count > 0;
      const pdd = pddText(st);
      if (pdd) delays.push(`  ${st.name}: ${pdd}`);
      rows.push([
        `  ${st.name}`, String(sent), String(st.received), ...classes.map(String), String(challenges), String(st.timeouts),
        lat ? ms(st.service.p50) : '-', lat ? ms(st.service.p90) : '-', lat ? ms(st.service.p99) : '-', lat ? ms(st.service.p999) : '-',
        lat ? ms(st.service.max) : '-', lat ? ms(st.corrected.p99) : '-',
      ]);
    }
    out.push(table(rows));
    out.push(...delays);
    const reasons = Object.entries(r.failureReasons).sort((a, b) => b[1] - a[1]).slice(0, 5);
    for (const [reason, n] of reasons) out.push(`  ✗ ${n} × step ${reason}`);
  }
  const sessions = sessionsText(s);
  if (sessions) out.push(`  ${sessions}`);
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

export function runSummary(r: RunResult): string {
  const out = r.scenarios.map(scenarioSummary);
  const broken = r.conformance.filter((c) => c.failed > 0);
  if (r.conformance.length) out.push(`conformance: ${r.conformance.length} checks applied, ${broken.length} failed`);
  for (const c of broken) out.push(`  ${c.severity === 'error' ? '✗' : '!'} ${c.id} (${c.rfc} §${c.section}): ${c.failed} of ${c.passed + c.failed} — ${c.examples[0] ?? ''}`);
  if (r.thresholds.length) {
    out.push('thresholds:');
    for (const th of r.thresholds) out.push(`  ${th.ok ? '✓' : '✗'} ${th.expr}  (${th.value === null ? 'no data' : th.value})`);
  }
  for (const e of r.workerErrors) out.push(`worker ${e.worker} failed: ${e.code}: ${e.message}${e.restarted ? ' (replaced; its running instances counted as failed)' : ''}`);
  if (r.abortedBy) out.push(`stopped early: threshold ${r.abortedBy} failed (abortOnFail)`);
  const t = r.totals;
  const partial = partialNote(r);
  if (partial) out.push(partial);
  out.push(`${t.verdict === 'passed' ? 'PASSED' : 'FAILED'}: ${t.started} started, ${t.passed} passed, ${t.failed} failed${t.dropped ? `, ${t.dropped} dropped` : ''}${r.interrupted ? ' (interrupted)' : ''}${partial ? ` (partial: ${r.shardSet!.missing.length} of ${r.shardSet!.count} shards missing)` : ''}`);
  return out.join('\n');
}

export class ProgressPrinter {
  private lastLen = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {}

  update(label: string, elapsedMs: number, p: { started: number; passed: number; failed: number; active: number; rate: number; asked?: number; p50?: number; p99?: number; retrans: number }): void {
    if (this.quiet) return;
    const line = `${label} ${(elapsedMs / 1000).toFixed(0)}s  rate ${p.rate}/s${p.asked ? ` (asked ${p.asked})` : ''}  active ${p.active}  passed ${p.passed}  failed ${p.failed}${p.p50 !== undefined ? `  p50 ${ms(p.p50)} p99 ${ms(p.p99 ?? 0)}` : ''}  retrans ${p.retrans}`;
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
