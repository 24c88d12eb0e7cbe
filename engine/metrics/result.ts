// The result object of a run (schemas/result.schema.json): what every reporter
// reads, what `sipstorm merge` adds up, what CI scripts read with jq. Built
// from merged snapshots; their raw histograms are encoded (compressed base64)
// here, once, beside the percentiles read from them.

import { decodeHistogram, encodeHistogram, histogramOf, percentiles, type Percentiles, type RawHistogram } from './histogram.js';
import type { FailureSample, RunSnapshot, StepSnapshot } from './step-metrics.js';
import type { TimePoint } from './timeseries.js';
import type { StepSeries } from './step-series.js';
import { ALL_CHECKS, mergeCheckCounts, type CheckCounts } from '../conformance/index.js';
import { addMediaResults, mediaResultOf, type MediaResult } from './media-metrics.js';

/** A step's counts as in its snapshot, with percentiles beside each encoded histogram. */
export interface StepResult extends Omit<StepSnapshot, 'service' | 'corrected' | 'pdd' | 'srd' | 'media'> {
  /** Steps that set up calls' audio: call quality across calls (docs/media.md). */
  media?: MediaResult;
  service: Percentiles & { histogram: string };
  corrected: Percentiles & { histogram: string };
  /** INVITE steps: time from the first send to the first 18x (post-dial delay). */
  pdd?: Percentiles & { histogram: string };
  /** INVITE steps: RFC 6076 §4.3 session request delay (to the first 18x, or else to the final response). */
  srd?: Percentiles & { histogram: string };
}

/**
 * RFC 6076 session metrics of a scenario's INVITE steps (absent without INVITE):
 * §4.6 SER = INVITEs answered 2xx / (INVITEs - INVITEs answered 3xx) x 100, and §4.3 SRD.
 */
export interface SessionMetrics {
  invites: number;
  answered: number;
  redirected: number;
  /** Percent, 0..100, one decimal; null when every INVITE was redirected (or none was sent). */
  ser: number | null;
  srd: Percentiles & { histogram: string };
  pdd: Percentiles & { histogram: string };
}

export interface RoleResult {
  role: string;
  started: number;
  passed: number;
  failed: number;
  running: number;
  dropped: number;
  /** Conformance cases only: cases that ran but do not apply to this server (not in passed or failed). */
  notApplicable?: number;
  /** Conformance cases only: cases never played (the server had stopped answering); not in started. */
  notRun?: number;
  failureReasons: Record<string, number>;
  /** Kind of reason -> a few full texts (absent in results written before reasons had kinds). */
  failureExamples?: Record<string, string[]>;
  duration: Percentiles & { histogram: string };
  steps: StepResult[];
}

/** One conformance case as it ended: what JUnit makes a testcase of, and the console a line. */
export interface CaseOutcome {
  id: string;
  rfc: string;
  section: string;
  title: string;
  outcome: 'passed' | 'failed' | 'notApplicable' | 'notRun';
  /** What the case expected, e.g. `405|501`, or per step `step 1: 2xx; step 2: 401|403|407`. */
  expected: string;
  /** What came: the last final answer (`404 Not Found`), or `no answer`, or `nothing sent`. */
  got: string;
  /** Why it failed, does not apply, or did not run (with the RFC section where it failed). */
  reason?: string;
  /** The case's wall time, from its first message to the end of its liveness OPTIONS. */
  durationMs: number;
}

export interface ScenarioResult {
  name: string;
  file: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  roles: RoleResult[];
  transport: Omit<RunSnapshot['transport'], 'wsConnect'> & { wsConnect?: Percentiles & { histogram: string } };
  health: RunSnapshot['health'] & { generatorBound: boolean };
  timeseries: TimePoint[];
  /** Per step, one point a second: percentiles and responses by class of that second (absent in older results and in merges). */
  stepSeries?: StepSeries[];
  /** A sample of failed instances with their SIP ladders (credentials redacted). */
  failures: FailureSample[];
  /** Conformance check id -> counts, for this scenario. */
  conformance: Record<string, CheckCounts>;
  /** `sipstorm conform`: the suite's cases, in the order played (a role's steps stand for them in the tables). */
  cases?: CaseOutcome[];
  /** RFC 6076 SER and SRD over the INVITE steps, when the scenario sends INVITEs. */
  sessions?: SessionMetrics;
  /** Call quality of the scenario's audio streams (all its steps), when it has `media`. */
  media?: MediaResult;
}


export interface ThresholdResult {
  expr: string;
  ok: boolean;
  value: number | null;
  source?: string;
  /** The unit of the expression's value: a time (`us`, `ms`, `s`; values are in ms), `%` (a rate, values are 0..1) or '' (a count). */
  unit?: ThresholdUnit;
}

export type ThresholdUnit = 'us' | 'ms' | 's' | '%' | '';
export interface ShardSetInfo {
  /** N of the shards' I/N. */
  count: number;
  /** The shards merged, as 'I/N', in order. */
  merged: string[];
  /** The shards missing, as 'I/N'; not empty only with --allow-partial. */
  missing: string[];
  /** True when shards are missing: the totals cover part of the run. */
  partial: boolean;
}

export interface RunResult {
  /**
   * Instances (conformance: cases): started = passed + failed + notApplicable + running; notRun were never started.
   * verdict and exitCode come from verdictOf (verdict.ts), the one rule for run, conform, merge and report.
   */
  totals: { started: number; passed: number; failed: number; running: number; dropped: number; notApplicable: number; notRun: number; verdict: 'passed' | 'failed' };
  /** What made this result: a load run (or a merge of them) or `sipstorm conform`. Absent: a run. */
  kind?: 'run' | 'conform';
  tool: { name: 'sipstorm'; version: string };
  settings: {
    target: string;
    embeddedServer: boolean;
    scenarios: string[];
    workers: number;
    /** 0-based index of this shard among count (a whole run is 0 of 1). */
    shard: { index: number; count: number };
    /** --run-id: one value shared by the shards of one run (e.g. a CI pipeline id); null when not given. */
    runId: string | null;
    /** sha256 of the compiled scenarios and load flags (engine/scenario/digest.ts): equal for the shards of one run. */
    scenarioDigest: string;
    overrides: Record<string, unknown>;
    /** The seed of Poisson arrivals and random pauses (--seed, or drawn): the same seed replays them. */
    seed?: number;
    /** A mix's scenario files and weights (sipstorm run FILE:WEIGHT ...). */
    mix?: { file: string; weight: number }[];
  };
  /** Set by `sipstorm merge`: which shards were added up, and which were missing (--allow-partial). */
  shardSet?: ShardSetInfo;
  machine: { hostname: string; cpus: number; node: string; platform: string };
  startedAt: string;
  endedAt: string;
  durationMs: number;
  interrupted: boolean;
  /** The signal that interrupted the run, when one did (merged results carry none: merge itself was not interrupted). */
  signal?: 'SIGINT' | 'SIGTERM';
  /** The abortOnFail threshold that stopped the run early, if one did. */
  abortedBy?: string;
  exitCode: number;
  scenarios: ScenarioResult[];
  thresholds: ThresholdResult[];
  conformance: { id: string; rfc: string; section: string; severity: 'error' | 'warning'; text: string; passed: number; failed: number; examples: string[] }[];
  workerErrors: { worker: number; code: string; message: string; restarted?: boolean }[];
  failures: FailureSample[];
  /** Call quality over every scenario's audio streams, when any has `media` (docs/media.md). */
  media?: MediaResult;
  /** --trace, --trace-failed, --pcap: the files written, and whether their size cap cut them short. */
  captures?: CaptureFileSummary[];
}

export interface CaptureFileSummary {
  kind: 'trace' | 'trace-failed' | 'pcap';
  file: string;
  messages: number;
  bytes: number;
  maxBytes: number;
  /** The cap was hit: `notWritten` messages are missing from the file (which says so too). */
  truncated: boolean;
  notWritten: number;
  /** Workers that crashed or were terminated before finishing their part: their last messages are missing, uncounted. */
  incompleteWorkers?: number;
}

/** A histogram of a snapshot (raw counts) as results carry it: percentiles and the compressed base64 form. */
function withHist(raw: RawHistogram): Percentiles & { histogram: string } {
  const h = histogramOf(raw);
  return { ...percentiles(h), histogram: encodeHistogram(h) };
}

/**
 * Whether a failure reason is a step's: those are kept without their leading 'step ' and start with the step's
 * label (`1 'INVITE': ...`, `'BYE': ...`); others say what ended the instance (`scenario timeout: ...`, `stopped: ...`).
 */
export function isStepReason(reason: string): boolean {
  return /^(\d+ )?'/.test(reason);
}

/** A failure reason as a reader sees it: `step 1 'INVITE': ...`, or the instance's reason as it is. */
export function reasonText(reason: string): string {
  return isStepReason(reason) ? `step ${reason}` : reason;
}

export function scenarioResult(
  name: string,
  file: string,
  snap: RunSnapshot,
  startedAt: Date,
  endedAt: Date,
  timeseries: TimePoint[],
  stepSeries?: StepSeries[],
): ScenarioResult {
  const roles: RoleResult[] = snap.roles.map((r) => ({
    role: r.role, started: r.started, passed: r.passed, failed: r.failed, running: r.running, dropped: r.dropped,
    failureReasons: r.failureReasons, failureExamples: r.failureExamples ?? {}, duration: withHist(r.duration),
    steps: r.steps.map((s) => ({
      name: s.name, sent: s.sent, finals: s.finals, timeouts: s.timeouts, errors: s.errors, challenges: s.challenges,
      passed: s.passed, failed: s.failed, received: s.received, codes: s.codes, failures: s.failures,
      service: withHist(s.service), corrected: withHist(s.corrected), acks: s.acks ?? 0,
      ...(s.pdd !== undefined && s.srd !== undefined ? { pdd: withHist(s.pdd), srd: withHist(s.srd) } : {}),
      ...(s.media !== undefined ? { media: mediaResultOf(s.media) } : {}),
    })),
  }));
  const sessions = sessionsOf(roles);
  const media = scenarioMediaOf(roles);
  return {
    name, file, startedAt: startedAt.toISOString(), endedAt: endedAt.toISOString(), durationMs: endedAt.getTime() - startedAt.getTime(),
    roles,
    transport: transportResult(snap.transport),
    health: { ...snap.health, generatorBound: snap.health.lagP99Ms > 50 || snap.health.sendLateP99Ms > 50 || (snap.health.workers ?? []).some((w) => w.busy > 0.9) },
    timeseries,
    ...(stepSeries ? { stepSeries } : {}),
    failures: snap.failures,
    conformance: snap.conformance,
    ...(sessions ? { sessions } : {}),
    ...(media ? { media } : {}),
  };
}

/** The media of every step of the roles, added up; undefined when no step set up a stream. */
export function scenarioMediaOf(roles: RoleResult[]): MediaResult | undefined {
  return addMediaResults(roles.flatMap((r) => r.steps.map((st) => st.media)));
}

/** The run's media: every scenario's, added up. */
export function runMediaOf(scenarios: ScenarioResult[]): MediaResult | undefined {
  return addMediaResults(scenarios.map((s) => s.media));
}

/** The transport counts as in the snapshot, the WebSocket connect times (when any) as a latency. */
function transportResult(t: RunSnapshot['transport']): ScenarioResult['transport'] {
  const { wsConnect, ...counts } = t;
  return wsConnect ? { ...counts, wsConnect: withHist(wsConnect) } : counts;
}

/** RFC 6076 §4.6 SER and §4.3 SRD over the INVITE steps (those that measured an SRD); undefined without any. */
export function sessionsOf(roles: RoleResult[]): SessionMetrics | undefined {
  const steps = roles.flatMap((r) => r.steps).filter((st) => st.srd && st.pdd);
  if (steps.length === 0) return undefined;
  let invites = 0;
  let answered = 0;
  let redirected = 0;
  const srd = decodeHistogram(steps[0]!.srd!.histogram);
  const pdd = decodeHistogram(steps[0]!.pdd!.histogram);
  steps.forEach((st, i) => {
    invites += st.sent;
    for (const [code, n] of Object.entries(st.codes)) {
      if (Number(code) >= 200 && Number(code) < 300) answered += n;
      else if (Number(code) >= 300 && Number(code) < 400) redirected += n;
    }
    if (i > 0) {
      srd.add(decodeHistogram(st.srd!.histogram));
      pdd.add(decodeHistogram(st.pdd!.histogram));
    }
  });
  const attempts = invites - redirected;
  return {
    invites, answered, redirected,
    ser: attempts > 0 ? Math.round((answered / attempts) * 1000) / 10 : null,
    srd: { ...percentiles(srd), histogram: encodeHistogram(srd) },
    pdd: { ...percentiles(pdd), histogram: encodeHistogram(pdd) },
  };
}

export function totalsOf(scenarios: ScenarioResult[]): Omit<RunResult['totals'], 'verdict'> {
  const t = { started: 0, passed: 0, failed: 0, running: 0, dropped: 0, notApplicable: 0, notRun: 0 };
  for (const s of scenarios)
    for (const r of s.roles) {
      t.started += r.started;
      t.passed += r.passed;
      t.failed += r.failed;
      t.running += r.running;
      t.dropped += r.dropped;
      t.notApplicable += r.notApplicable ?? 0;
      t.notRun += r.notRun ?? 0;
    }
  return t;
}

/** Counts that must balance; a violation is a bug of ours, reported, never hidden. */
export function checkBalance(result: Pick<RunResult, 'scenarios'>): string[] {
  const problems: string[] = [];
  for (const s of result.scenarios)
    for (const r of s.roles) {
      const na = r.notApplicable ?? 0;
      if (r.started !== r.passed + r.failed + na + r.running) {
        problems.push(`${s.name}/${r.role}: started ${r.started} != passed ${r.passed} + failed ${r.failed}${na ? ` + not applicable ${na}` : ''} + running ${r.running}`);
      }
      for (const st of r.steps) {
        if (st.sent === 0) continue; // steps that only receive (recv) or send no request (ACK)
        const outcomes = st.finals + st.timeouts + st.errors;
        if (r.running === 0 ? st.sent !== outcomes : st.sent < outcomes) {
          problems.push(`${s.name}/${r.role}/${st.name}: sent ${st.sent} != final responses ${st.finals} + timeouts ${st.timeouts} + errors ${st.errors}`);
        }
      }
    }
  return problems;
}

/** The run's conformance table: every check that applied, with its catalog entry, summed over scenarios. */
export function conformanceOf(scenarios: ScenarioResult[]): RunResult['conformance'] {
  const counts = scenarios.reduce<Record<string, CheckCounts>>((acc, s) => mergeCheckCounts(acc, s.conformance ?? {}), {});
  return ALL_CHECKS.filter((c) => counts[c.id]).map((c) => ({ id: c.id, rfc: c.rfc, section: c.section, severity: c.severity, text: c.text, ...counts[c.id]! }));
}
