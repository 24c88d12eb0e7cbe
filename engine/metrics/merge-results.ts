// `sipstorm merge`: result objects of shards (or separate runs of the same
// scenarios) into one. Counts are added, histograms are added (never
// averaged) and percentiles derived again, time series added point by point,
// thresholds evaluated again on the merged numbers.

import { SipstormError } from '../errors.js';
import { decodeHistogram, encodeHistogram, percentiles } from './histogram.js';
import type { RoleResult, RunResult, ScenarioResult, StepResult } from './result.js';
import { conformanceOf, runMediaOf, scenarioMediaOf, sessionsOf, totalsOf } from './result.js';
import { addMediaResults } from './media-metrics.js';
import { addCounts, addExamples, addReasonCounts, mergeWorkers } from './step-metrics.js';
import { mergeCheckCounts } from '../conformance/index.js';
import { evaluateThresholds, parseThreshold } from './thresholds.js';
import { applyVerdict } from './verdict.js';

function addLatency<T extends { histogram: string }>(a: T, b: T): T {
  const h = decodeHistogram(a.histogram);
  h.add(decodeHistogram(b.histogram));
  const histogram = encodeHistogram(h);
  return { ...a, ...percentiles(h), histogram };
}

function addOptionalLatency<T extends { histogram: string }>(a: T | undefined, b: T | undefined): T | undefined {
  return a && b ? addLatency(a, b) : (a ?? b);
}

function mergeStep(a: StepResult, b: StepResult): StepResult {
  const pdd = addOptionalLatency(a.pdd, b.pdd);
  const srd = addOptionalLatency(a.srd, b.srd);
  const media = addMediaResults([a.media, b.media]);
  return {
    name: a.name, sent: a.sent + b.sent, finals: a.finals + b.finals, timeouts: a.timeouts + b.timeouts, errors: a.errors + b.errors,
    challenges: a.challenges + b.challenges, acks: (a.acks ?? 0) + (b.acks ?? 0), passed: a.passed + b.passed, failed: a.failed + b.failed, received: a.received + b.received,
    codes: addCounts(a.codes, b.codes), failures: addReasonCounts(a.failures, b.failures),
    service: addLatency(a.service, b.service), corrected: addLatency(a.corrected, b.corrected),
    ...(pdd ? { pdd } : {}),
    ...(srd ? { srd } : {}),
    ...(media ? { media } : {}),
  };
}

function mergeRole(a: RoleResult, b: RoleResult, where: string): RoleResult {
  if (a.steps.length !== b.steps.length || a.steps.some((s, i) => s.name !== b.steps[i]!.name)) {
    throw new SipstormError('MERGE_MISMATCH', `${where}: the results come from different scenarios (steps differ)`);
  }
  return {
    role: a.role, started: a.started + b.started, passed: a.passed + b.passed, failed: a.failed + b.failed, running: a.running + b.running,
    dropped: a.dropped + b.dropped,
    ...(a.notApplicable !== undefined || b.notApplicable !== undefined ? { notApplicable: (a.notApplicable ?? 0) + (b.notApplicable ?? 0) } : {}),
    ...(a.notRun !== undefined || b.notRun !== undefined ? { notRun: (a.notRun ?? 0) + (b.notRun ?? 0) } : {}),
    failureReasons: addReasonCounts(a.failureReasons, b.failureReasons),
    failureExamples: addExamples(a.failureExamples, b.failureExamples), duration: addLatency(a.duration, b.duration),
    steps: a.steps.map((s, i) => mergeStep(s, b.steps[i]!)),
  };
}

function mergeScenario(a: ScenarioResult, b: ScenarioResult): ScenarioResult {
  const roles = [...a.roles];
  for (const r of b.roles) {
    const i = roles.findIndex((x) => x.role === r.role);
    if (i >= 0) roles[i] = mergeRole(roles[i]!, r, `${a.name}/${r.role}`);
    else roles.push(r);
  }
  const startedAt = a.startedAt < b.startedAt ? a.startedAt : b.startedAt;
  const endedAt = a.endedAt > b.endedAt ? a.endedAt : b.endedAt;
  const len = Math.max(a.timeseries.length, b.timeseries.length);
  const timeseries = Array.from({ length: len }, (_, i) => {
    const x = a.timeseries[i];
    const y = b.timeseries[i];
    if (!x || !y) return (x ?? y)!;
    // Percentiles of a second cannot be added: the larger of the two is a bound, said so in docs.
    return { t: x.t, started: x.started + y.started, passed: x.passed + y.passed, failed: x.failed + y.failed, active: x.active + y.active, rate: x.rate + y.rate, p50: Math.max(x.p50, y.p50), p99: Math.max(x.p99, y.p99) };
  });
  const t = a.transport;
  const u = b.transport;
  const sessions = sessionsOf(roles);
  const media = scenarioMediaOf(roles);
  return {
    name: a.name, file: a.file, startedAt, endedAt, durationMs: Date.parse(endedAt) - Date.parse(startedAt), roles,
    transport: {
      retransmissionsSent: t.retransmissionsSent + u.retransmissionsSent, requestRetransmissions: addCounts(t.requestRetransmissions ?? {}, u.requestRetransmissions ?? {}), retransmissionsReceived: t.retransmissionsReceived + u.retransmissionsReceived,
      timeouts: t.timeouts + u.timeouts, stray: t.stray + u.stray, parseErrors: addCounts(t.parseErrors, u.parseErrors),
      unexpectedRequests: t.unexpectedRequests + u.unexpectedRequests, transportErrors: addCounts(t.transportErrors, u.transportErrors),
      ...(t.wsConnect || u.wsConnect ? { wsConnect: addOptionalLatency(t.wsConnect, u.wsConnect) } : {}),
    },
    health: {
      lagP99Ms: Math.max(a.health.lagP99Ms, b.health.lagP99Ms), lagMaxMs: Math.max(a.health.lagMaxMs, b.health.lagMaxMs),
      cpuMs: a.health.cpuMs + b.health.cpuMs, sendLateP99Ms: Math.max(a.health.sendLateP99Ms, b.health.sendLateP99Ms),
      sendLateMaxMs: Math.max(a.health.sendLateMaxMs, b.health.sendLateMaxMs), sendsOnTimeShare: Math.min(a.health.sendsOnTimeShare, b.health.sendsOnTimeShare),
      generatorBound: a.health.generatorBound || b.health.generatorBound,
      heapUsedMb: (a.health.heapUsedMb ?? 0) + (b.health.heapUsedMb ?? 0),
      workers: mergeWorkers(a.health.workers, b.health.workers),
    },
    timeseries,
    failures: [...a.failures, ...b.failures].slice(0, 20),
    conformance: mergeCheckCounts(a.conformance ?? {}, b.conformance ?? {}),
    ...(a.cases || b.cases ? { cases: [...(a.cases ?? []), ...(b.cases ?? [])] } : {}),
    ...(sessions ? { sessions } : {}),
    ...(media ? { media } : {}),
  };
}

export function mergeResults(results: RunResult[]): RunResult {
  if (results.length === 0) throw new SipstormError('MERGE_EMPTY', 'nothing to merge');
  const [first, ...rest] = results;
  let scenarios = first!.scenarios;
  for (const r of rest) {
    const merged = [...scenarios];
    for (const s of r.scenarios) {
      const i = merged.findIndex((x) => x.name === s.name);
      if (i >= 0) merged[i] = mergeScenario(merged[i]!, s);
      else merged.push(s);
    }
    scenarios = merged;
  }
  const startedAt = results.map((r) => r.startedAt).sort()[0]!;
  const endedAt = results.map((r) => r.endedAt).sort().pop()!;
  const out: RunResult = {
    ...first!,
    totals: { ...totalsOf(scenarios), verdict: 'passed' },
    settings: { ...first!.settings, shard: { index: 0, count: 1 }, workers: results.reduce((a, r) => a + r.settings.workers, 0) },
    startedAt,
    endedAt,
    durationMs: Date.parse(endedAt) - Date.parse(startedAt),
    // A shard that was interrupted leaves the merged run incomplete (not passed); merge itself caught no signal.
    interrupted: results.some((r) => r.interrupted),
    signal: undefined,
    abortedBy: results.find((r) => r.abortedBy)?.abortedBy,
    scenarios,
    workerErrors: results.flatMap((r) => r.workerErrors),
    failures: results.flatMap((r) => r.failures).slice(0, 20),
    conformance: conformanceOf(scenarios),
  };
  const media = runMediaOf(scenarios);
  if (media) out.media = media;
  else delete out.media;
  if (out.signal === undefined) delete out.signal;
  if (out.abortedBy === undefined) delete out.abortedBy;
  // The same thresholds, evaluated again on the merged numbers.
  const exprs = [...new Map(results.flatMap((r) => r.thresholds).map((th) => [th.expr, th.source])).entries()];
  out.thresholds = evaluateThresholds(exprs.map(([expr, source]) => parseThreshold(expr, source)), out);
  applyVerdict(out);
  return out;
}
