// Pass/fail thresholds, k6-style: '<metric> <op> <value>', e.g.
//   step.REGISTER.p99 < 200ms    failed.rate < 0.1%    rate.achieved >= 950    conformance.failed == 0
//   media.loss < 0.5%    media.jitter.p99 < 30ms    media.mos.p5 >= 4.0    media.oneway == 0
// Parsed before the run (a bad expression is bad input, exit 2, with the
// column), evaluated on the result (so shards merged re-evaluate them).

import { SipstormError } from '../errors.js';
import type { RunResult, ThresholdResult, ThresholdUnit } from './result.js';

export class ThresholdError extends SipstormError {
  constructor(message: string) {
    super('THRESHOLD_INVALID', message);
  }
}

export interface Threshold {
  expr: string;
  metric: string[];
  op: '<' | '<=' | '>' | '>=' | '==' | '!=';
  value: number;
  /** The unit the expression was written in (or the metric's own: ms for a latency), for printing values in it. */
  unit: ThresholdUnit;
  source?: string;
  /** Stop the run when this threshold fails (after delayAbortMs). */
  abortOnFail?: boolean;
  delayAbortMs?: number;
}

const STEP_STATS = ['p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'count', 'failed', 'timeouts', 'corrected.p50', 'corrected.p99', 'corrected.p99.9', 'corrected.max'];
const LATENCY_STATS = new Set(['p50', 'p90', 'p99', 'p99.9', 'max', 'mean']);
/** Media metrics (docs/media.md): the run's loss, one-way count and streams; jitter and MOS across streams. */
const MEDIA_STATS = ['min', 'p5', 'p50', 'p90', 'p99', 'max', 'mean'];
const MEDIA_NAMES = new Set(['media.loss', 'media.oneway', 'media.streams', ...MEDIA_STATS.flatMap((k) => [`media.jitter.${k}`, `media.mos.${k}`, `media.loss.${k}`])]);
const TOP = new Set(['failed.rate', 'failed.count', 'passed.count', 'started.count', 'rate.achieved', 'conformance.failed', 'timeouts', 'dropped', 'retransmissions']);

export function parseThreshold(expr: string, source?: string): Threshold {
  const m = /^\s*([A-Za-z0-9_.#/-]+)\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)?)\s*(us|ms|s|%)?\s*$/.exec(expr);
  const where = source ? `${source}: ` : '';
  if (!m) {
    // Point at the first character that does not fit: metric, operator, number, unit, end.
    const steps = [/^\s*[A-Za-z0-9_.#/-]+/, /^\s*(<=|>=|==|!=|<|>)/, /^\s*\d+(\.\d+)?/, /^\s*(us|ms|s|%)?/, /^\s*$/];
    const what = ['a metric name', 'an operator (< <= > >= == !=)', 'a number', 'a unit (us, ms, s, %)', 'a unit (us, ms, s, %) or the end of the expression'];
    let pos = 0;
    let i = 0;
    for (; i < steps.length; i++) {
      const hit = steps[i]!.exec(expr.slice(pos));
      if (!hit) break;
      pos += hit[0].length;
    }
    throw new ThresholdError(`${where}threshold '${expr}': expected ${what[Math.min(i, what.length - 1)]} at column ${pos + 1} (form: <metric> <op> <value>, e.g. step.REGISTER.p99 < 200ms)`);
  }
  const name = m[1]!;
  let value = Number(m[3]);
  const unit = m[4];
  if (unit === 's') value *= 1000;
  else if (unit === 'us') value /= 1000;
  else if (unit === '%') value /= 100;
  let metric: string[];
  if (name.startsWith('step.')) {
    const rest = name.slice(5);
    const stat = STEP_STATS.slice().sort((a, b) => b.length - a.length).find((s) => rest.endsWith(`.${s}`));
    if (!stat || rest.length === stat.length + 1) {
      throw new ThresholdError(`${where}threshold '${expr}': write step.<NAME>.<${STEP_STATS.slice(0, 8).join('|')}>`);
    }
    metric = ['step', rest.slice(0, -stat.length - 1), stat];
  } else if (TOP.has(name) || MEDIA_NAMES.has(name)) {
    metric = [name];
  } else if (name.startsWith('media.')) {
    throw new ThresholdError(`${where}threshold '${expr}': unknown media metric '${name}' (media.loss, media.oneway, media.streams, media.jitter.<${MEDIA_STATS.join('|')}>, media.mos.<...>, media.loss.<...>)`);
  } else {
    throw new ThresholdError(`${where}threshold '${expr}': unknown metric '${name}' (step.<NAME>.p99, ${[...TOP].join(', ')}, media.loss, media.jitter.p99, media.mos.p5, media.oneway)`);
  }
  const isLatency = (metric[0] === 'step' && LATENCY_STATS.has(metric[2]!.replace(/^corrected\./, ''))) || name.startsWith('media.jitter.');
  if (unit === '%' && !name.endsWith('.rate') && !name.startsWith('media.loss')) throw new ThresholdError(`${where}threshold '${expr}': a percentage only fits a rate such as failed.rate`);
  if ((unit === 'us' || unit === 'ms' || unit === 's') && !isLatency) throw new ThresholdError(`${where}threshold '${expr}': '${name}' is a count, not a time; write it without a unit`);
  const isLoss = name.startsWith('media.loss');
  const shown: ThresholdUnit = unit === undefined ? (isLatency ? 'ms' : isLoss ? '%' : '') : (unit as ThresholdUnit);
  // A loss without '%' is a share 0..1, like failed.rate.
  return { expr: expr.trim(), metric, op: m[2] as Threshold['op'], value, unit: shown, source };
}

/** What a threshold may name: per scenario, its roles and each role's step names. */
export interface ThresholdNames {
  scenarios: { name: string; roles: { name: string; steps: string[] }[] }[];
}

/**
 * Why the threshold names a step or role that no scenario has (undefined when all is known): found before any
 * traffic, since after the run it could only say "no data". `step.NAME` is any role's step NAME, `step.ROLE/NAME`
 * that role's.
 */
export function unknownThresholdName(t: Threshold, known: ThresholdNames): string | undefined {
  if (t.metric[0] !== 'step') return undefined;
  const ref = t.metric[1]!;
  const slash = ref.indexOf('/');
  const role = slash >= 0 ? ref.slice(0, slash) : undefined;
  const step = slash >= 0 ? ref.slice(slash + 1) : ref;
  const roles = known.scenarios.flatMap((s) => s.roles);
  const inRoles = role === undefined ? roles : roles.filter((r) => r.name === role);
  if (role !== undefined && inRoles.length === 0) {
    return `no role '${role}' (roles: ${[...new Set(roles.map((r) => r.name))].join(', ')})`;
  }
  if (inRoles.some((r) => r.steps.includes(step))) return undefined;
  const names = [...new Set(inRoles.flatMap((r) => r.steps))];
  return `no step '${step}'${role ? ` in role '${role}'` : ''} (steps: ${names.join(', ') || 'none'})`;
}

/** A measured value in the threshold's kind of unit, readable: 9.2 ms, 850 us, 1.25 s, 0.8%, 12. */
export function formatMeasured(value: number, unit: ThresholdUnit | undefined): string {
  const round = (x: number, digits: number) => String(Number(x.toFixed(digits)));
  switch (unit) {
    case 'us':
    case 'ms':
    case 's': {
      // Values are milliseconds; print in the unit that gives the fewest digits before the point.
      if (value < 1) return `${round(value * 1000, value * 1000 >= 10 ? 0 : 1)} us`;
      if (value < 1000) return `${round(value, value >= 100 ? 0 : 1)} ms`;
      return `${round(value / 1000, 2)} s`;
    }
    case '%':
      return `${round(value * 100, value * 100 >= 10 ? 1 : 3)}%`;
    default:
      return round(value, 3);
  }
}

function valueOf(t: Threshold, r: RunResult): number | null {
  const totals = r.totals;
  switch (t.metric[0]) {
    case 'failed.rate':
      return totals.started ? totals.failed / totals.started : null;
    case 'failed.count':
      return totals.failed;
    case 'passed.count':
      return totals.passed;
    case 'started.count':
      return totals.started;
    case 'dropped':
      return totals.dropped;
    case 'rate.achieved': {
      const secs = r.durationMs / 1000;
      return secs > 0 ? Math.round((totals.started / secs) * 10) / 10 : null;
    }
    case 'conformance.failed':
      return r.conformance.reduce((a, c) => a + (c.severity === 'error' ? c.failed : 0), 0);
    case 'timeouts':
      return r.scenarios.reduce((a, s) => a + s.roles.reduce((b, ro) => b + ro.steps.reduce((c, st) => c + st.timeouts, 0), 0), 0);
    case 'retransmissions':
      return r.scenarios.reduce((a, s) => a + s.transport.retransmissionsSent, 0);
    case 'media.loss': {
      const m = r.media;
      // Lost / expected over every stream; streams that received nothing (one-way) expected no number: all lost.
      if (!m || m.receiving === 0) return null;
      return m.packetsExpected > 0 ? m.packetsLost / m.packetsExpected : 1;
    }
    case 'media.oneway':
      return r.media ? r.media.oneWay : null;
    case 'media.streams':
      return r.media ? r.media.streams : null;
    case 'step': {
      const [, ref, stat] = t.metric as [string, string, string];
      const slash = ref.indexOf('/');
      const roleName = slash >= 0 ? ref.slice(0, slash) : undefined;
      const name = slash >= 0 ? ref.slice(slash + 1) : ref;
      for (const s of r.scenarios)
        for (const role of s.roles)
          for (const st of role.steps) {
            if (st.name !== name || (roleName !== undefined && role.role !== roleName)) continue;
            const h = stat.startsWith('corrected.') ? st.corrected : st.service;
            const k = stat.replace(/^corrected\./, '');
            if (k === 'count') return st.finals;
            if (k === 'failed') return st.failed + st.timeouts + st.errors;
            if (k === 'timeouts') return st.timeouts;
            if (h.count === 0) return null;
            return k === 'p99.9' ? h.p999 : (h as unknown as Record<string, number>)[k]!;
          }
      return null;
    }
    default:
      if (t.metric[0]!.startsWith('media.')) {
        const [, kind, stat] = t.metric[0]!.split('.') as [string, 'jitter' | 'mos' | 'loss', string];
        const m = r.media;
        const h = kind === 'jitter' ? m?.jitterMs : kind === 'mos' ? m?.mos : m?.lossPercent;
        if (!h || h.count === 0) return null;
        const v = (h as unknown as Record<string, number>)[stat]!;
        // Loss across streams is kept in percent; thresholds compare shares (0..1).
        return kind === 'loss' ? v / 100 : v;
      }
  }
  return null;
}

export function evaluateThresholds(list: Threshold[], r: RunResult): ThresholdResult[] {
  return list.map((t) => {
    const value = valueOf(t, r);
    let ok = false;
    if (value !== null) {
      switch (t.op) {
        case '<': ok = value < t.value; break;
        case '<=': ok = value <= t.value; break;
        case '>': ok = value > t.value; break;
        case '>=': ok = value >= t.value; break;
        case '==': ok = value === t.value; break;
        case '!=': ok = value !== t.value; break;
      }
    }
    return { expr: t.expr, ok, value, unit: t.unit, source: t.source };
  });
}
