// Small text helpers shared by the text reporters.

import type { RunResult, ScenarioResult, StepResult } from '../engine/metrics/result.js';

/**
 * Text from a peer (a reason phrase, a header value) made safe for a terminal: C0 and C1 control
 * characters, DEL, and Unicode's bidirectional overrides are written as escapes (`\x1b`,
 * `\u202e`), so a server cannot move the cursor, clear the screen, set the window title or
 * reorder what the line shows.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function ms(v: number): string {
  if (v >= 10_000) return `${(v / 1000).toFixed(1)}s`;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  return `${v.toFixed(v >= 10 ? 1 : 2)}ms`;
}

export function table(rows: string[][], rightAlignFrom = 1): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c >= rightAlignFrom ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd())
    .join('\n');
}

/**
 * How the generator itself did: the share of arrivals that started within 1 ms of their intended time, how late the
 * late ones were, event-loop lag, each worker's busy share; and whether it, not the target, was the bottleneck.
 */
export function generatorLine(h: ScenarioResult['health']): string {
  const parts = [
    `${formatShare(h.sendsOnTimeShare)} of starts within 1 ms of their intended time (late p99 ${ms(h.sendLateP99Ms)})`,
    `event-loop lag p99 ${ms(h.lagP99Ms)}`,
  ];
  const workers = h.workers ?? [];
  if (workers.length) parts.push(`workers busy ${workers.map((w) => `#${w.worker} ${Math.round(w.busy * 100)}%`).join(', ')}`);
  const warmed = workers.filter((w) => w.warmUp);
  if (warmed.length) parts.push(`warm-up on loopback before the start ${warmed.map((w) => `#${w.worker} ${w.warmUp!.instances.toLocaleString('en-US')} instances in ${w.warmUp!.ms} ms`).join(', ')}`);
  const line = `generator: ${parts.join(', ')}`;
  return h.generatorBound ? `${line}; generator overloaded: latencies include our own delay` : line;
}

/** A share as a percentage, rounded down so that 99.96% never reads as 100%. */
function formatShare(x: number): string {
  const tenths = Math.floor(x * 1000 + 1e-9);
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)}%`;
}

export function classCounts(codes: Record<string, number>): number[] {
  const out = [0, 0, 0, 0, 0, 0];
  for (const [code, n] of Object.entries(codes)) {
    const cls = Math.floor(Number(code) / 100);
    if (cls >= 1 && cls <= 6) out[cls - 1]! += n;
  }
  return out;
}

/** For a merge of an incomplete shard set (--allow-partial): what is missing, said in every report; undefined otherwise. */
export function partialNote(r: Pick<RunResult, 'shardSet'>): string | undefined {
  const s = r.shardSet;
  if (!s?.partial) return undefined;
  const missing = s.missing.length === 1 ? `shard ${s.missing[0]} missing` : `shards ${s.missing.join(', ')} missing`;
  return `PARTIAL: ${missing}; the totals cover ${s.merged.length} of ${s.count} shards (merged with --allow-partial)`;
}

/**
 * A step's row counts as the tables show them: sent includes the ACKs an ACK step sent (kept apart in the
 * result, outside the balance), and the digest challenges answered with credentials (401/407) are a column
 * of their own instead of 4xx: a clean registration run reads 4xx 0.
 */
export function stepRow(st: StepResult): { sent: number; classes: number[]; challenges: number } {
  const classes = classCounts(st.codes);
  classes[3] = Math.max(0, classes[3]! - st.challenges);
  return { sent: st.sent + (st.acks ?? 0), classes, challenges: st.challenges };
}

/** INVITE steps: the post-dial delay (first send to first 18x), or undefined when none rang. */
export function pddText(st: StepResult): string | undefined {
  const p = st.pdd;
  if (!p || p.count === 0) return undefined;
  return `post-dial delay (to the first 18x, ${p.count} rang): p50 ${ms(p.p50)}, p90 ${ms(p.p90)}, p99 ${ms(p.p99)}, max ${ms(p.max)}`;
}

/** RFC 6076 over the scenario's INVITEs: session establishment ratio and session request delay. */
export function sessionsText(s: ScenarioResult): string | undefined {
  const x = s.sessions;
  if (!x) return undefined;
  const ser = x.ser === null ? 'SER n/a (every INVITE redirected)' : `SER ${x.ser}% (${x.answered} of ${x.invites - x.redirected} answered 2xx${x.redirected ? `, ${x.redirected} redirected not counted` : ''})`;
  const srd = x.srd.count ? `SRD p50 ${ms(x.srd.p50)}, p99 ${ms(x.srd.p99)}, max ${ms(x.srd.max)}` : 'SRD: no response';
  return `sessions (RFC 6076): ${x.invites} INVITEs, ${ser}, ${srd}`;
}
