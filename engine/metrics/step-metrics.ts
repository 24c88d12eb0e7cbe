// Counters and histograms of one scenario step, and of a role and a run: the
// mutable form a worker records into, and the plain snapshot form (histograms
// as raw counts, RawHistogram) that crosses threads every second and is added
// up by mergeSnapshots; results encode them (result.ts).
//
// Balance, per step: sent = finals + timeouts + errors (+ pending while running).
// ACKs are counted apart (acks): an ACK gets no response (RFC 3261 §17.1.1.3),
// so it has no place in that balance.

import { addRaw, newHistogram, rawOf, recordMs, type Histogram, type RawHistogram } from './histogram.js';
import { mergeCheckCounts, type CheckCounts } from '../conformance/index.js';
import { addOptionalMedia, MediaMetrics, type MediaSnapshot } from './media-metrics.js';

/**
 * Failure reasons are counted by kind (a reason without the peer's text: no reason phrase, no
 * header value), so a server that varies its text cannot grow them; past this many kinds, more
 * count under OTHER_REASONS. Each kind keeps a few full texts as examples.
 */
export const MAX_REASON_KINDS = 100;
export const MAX_REASON_EXAMPLES = 3;
export const OTHER_REASONS = 'other reasons (more kinds than the result keeps)';

/** Adds n to counts[kind], or to OTHER_REASONS when counts already has MAX_REASON_KINDS kinds; returns the key used. */
export function countReason(counts: Record<string, number>, kind: string, n = 1): string {
  let key = kind;
  if (counts[key] === undefined && Object.keys(counts).length >= MAX_REASON_KINDS) key = OTHER_REASONS;
  counts[key] = (counts[key] ?? 0) + n;
  return key;
}

/** Keeps text as an example of kind, if it says more than the kind and there is room. */
export function addExample(examples: Record<string, string[]>, kind: string, text: string): void {
  if (text === kind) return;
  const list = (examples[kind] ??= []);
  if (list.length < MAX_REASON_EXAMPLES && !list.includes(text)) list.push(text);
}

/** Adds reason counts of two workers or shards, keeping the bound on kinds. */
export function addReasonCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) countReason(out, k, v);
  return out;
}

/** Adds example lists of two workers or shards, a few per kind. */
export function addExamples(a: Record<string, string[]> = {}, b: Record<string, string[]> = {}): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, list] of [...Object.entries(a), ...Object.entries(b)]) for (const text of list) addExample(out, k, text);
  return out;
}

export class StepMetrics {
  sent = 0;
  finals = 0;
  timeouts = 0;
  errors = 0;
  challenges = 0;
  /** ACKs this step sent (a send: ACK step); outside the balance, as no response comes. */
  acks = 0;
  passed = 0;
  failed = 0;
  received = 0;
  codes: Record<string, number> = {};
  failures: Record<string, number> = {};
  readonly service: Histogram = newHistogram();
  readonly corrected: Histogram = newHistogram();
  /** INVITE steps only (made at the first INVITE): time to the first 18x, post-dial delay. */
  pdd?: Histogram;
  /** INVITE steps only: RFC 6076 §4.3 session request delay, to the first 18x or else the final response. */
  srd?: Histogram;
  /** Steps that set up a call's audio (made at the first stream): call quality across calls. */
  media?: MediaMetrics;

  /** An INVITE step: its delays are measured (RFC 6076). */
  inviteSent(): void {
    this.pdd ??= newHistogram();
    this.srd ??= newHistogram();
  }

  /** The first 18x of an INVITE, ms after its first send: the post-dial delay and, for RFC 6076, its SRD. */
  ringing(ms: number): void {
    if (this.pdd) recordMs(this.pdd, ms);
    if (this.srd) recordMs(this.srd, ms);
  }

  /** A final response to an INVITE that had no 18x before it: the SRD ends there (RFC 6076 §4.3.1, §4.3.2). */
  finalWithoutRinging(ms: number): void {
    if (this.srd) recordMs(this.srd, ms);
  }

  code(status: number): void {
    this.codes[status] = (this.codes[status] ?? 0) + 1;
  }

  latency(serviceMs: number, correctedMs: number): void {
    recordMs(this.service, serviceMs);
    recordMs(this.corrected, correctedMs);
  }

  /** A failed check; `kind` names it without the peer's text. */
  fail(kind: string): void {
    this.failed++;
    countReason(this.failures, kind);
  }

  snapshot(name: string): StepSnapshot {
    return {
      name, sent: this.sent, finals: this.finals, timeouts: this.timeouts, errors: this.errors, challenges: this.challenges, acks: this.acks,
      passed: this.passed, failed: this.failed, received: this.received, codes: { ...this.codes }, failures: { ...this.failures },
      service: rawOf(this.service), corrected: rawOf(this.corrected),
      ...(this.pdd && this.srd ? { pdd: rawOf(this.pdd), srd: rawOf(this.srd) } : {}),
      ...(this.media ? { media: this.media.snapshot() } : {}),
    };
  }
}

export interface StepSnapshot {
  name: string;
  sent: number;
  finals: number;
  timeouts: number;
  errors: number;
  challenges: number;
  acks: number;
  passed: number;
  failed: number;
  received: number;
  codes: Record<string, number>;
  failures: Record<string, number>;
  service: RawHistogram;
  corrected: RawHistogram;
  /** INVITE steps: post-dial delay (to the first 18x) and RFC 6076 session request delay. */
  pdd?: RawHistogram;
  srd?: RawHistogram;
  /** Steps that set up calls' audio streams (docs/media.md). */
  media?: MediaSnapshot;
}

export interface RoleSnapshot {
  scenario: string;
  role: string;
  started: number;
  passed: number;
  failed: number;
  running: number;
  dropped: number;
  steps: StepSnapshot[];
  /** Whole-instance durations (service) and from the intended start (corrected). */
  duration: RawHistogram;
  durationCorrected: RawHistogram;
  /** Why instances failed: kind of reason -> count (kinds name the step, expected and got, never the peer's text). */
  failureReasons: Record<string, number>;
  /** Kind -> a few full reasons (with the peer's reason phrase or value). */
  failureExamples?: Record<string, string[]>;
}

export interface FailureSample {
  scenario: string;
  role: string;
  user: string;
  reason: string;
  ladder: LadderEntry[];
}

export interface LadderEntry {
  /** ms since the instance started. */
  t: number;
  dir: 'sent' | 'received';
  local: string;
  remote: string;
  firstLine: string;
  raw: string;
}

/** One worker's own numbers: how busy its event loop was, and its warm-up before the start (engine/load/warm-up.ts). */
export interface WorkerHealth {
  worker: number;
  busy: number;
  /** Absent when the worker did not warm up. */
  warmUp?: { instances: number; passed: number; ms: number };
}

export interface RunSnapshot {
  roles: RoleSnapshot[];
  transport: {
    retransmissionsSent: number; requestRetransmissions?: Record<string, number>; retransmissionsReceived: number; timeouts: number; stray: number; parseErrors: Record<string, number>; unexpectedRequests: number; transportErrors: Record<string, number>;
    /** WebSocket targets: the time from the start of each connection to its completed upgrade (TCP, TLS, HTTP). */
    wsConnect?: RawHistogram;
  };
  health: {
    lagP99Ms: number; lagMaxMs: number; cpuMs: number; sendLateP99Ms: number; sendLateMaxMs: number; sendsOnTimeShare: number;
    /** V8 heap in use by the workers, MB (the live heap when node runs with --expose-gc: workers collect first). */
    heapUsedMb?: number;
    /**
     * Per worker: the share of the run its event loop was busy (0..1). Node 20 has no CPU clock per
     * thread; a worker busy near 1 is a generator at its limit.
     */
    workers?: WorkerHealth[];
  };
  failures: FailureSample[];
  /** Conformance check id -> passed/failed counts and a few examples. */
  conformance: Record<string, CheckCounts>;
}

export class RoleMetrics {
  started = 0;
  passed = 0;
  failed = 0;
  running = 0;
  dropped = 0;
  readonly steps: StepMetrics[];
  readonly duration = newHistogram();
  readonly durationCorrected = newHistogram();
  failureReasons: Record<string, number> = {};
  failureExamples: Record<string, string[]> = {};

  constructor(
    readonly scenario: string,
    readonly role: string,
    readonly stepNames: string[],
  ) {
    this.steps = stepNames.map(() => new StepMetrics());
  }

  instanceDone(passed: boolean, durationMs: number, correctedMs: number, reason?: string, kind = reason): void {
    this.running--;
    if (passed) this.passed++;
    else {
      this.failed++;
      if (kind) addExample(this.failureExamples, countReason(this.failureReasons, kind), reason ?? kind);
    }
    recordMs(this.duration, durationMs);
    recordMs(this.durationCorrected, correctedMs);
  }

  snapshot(): RoleSnapshot {
    return {
      scenario: this.scenario, role: this.role, started: this.started, passed: this.passed, failed: this.failed, running: this.running,
      dropped: this.dropped, steps: this.steps.map((s, i) => s.snapshot(this.stepNames[i]!)),
      duration: rawOf(this.duration), durationCorrected: rawOf(this.durationCorrected),
      failureReasons: { ...this.failureReasons },
      failureExamples: structuredClone(this.failureExamples),
    };
  }
}

export function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Optional histograms (INVITE steps' pdd, srd): added when both have one, else whichever exists. */
function addOptional(a: RawHistogram | undefined, b: RawHistogram | undefined): RawHistogram | undefined {
  return a !== undefined && b !== undefined ? addRaw(a, b) : (a ?? b);
}

function mergeStep(a: StepSnapshot, b: StepSnapshot): StepSnapshot {
  const pdd = addOptional(a.pdd, b.pdd);
  const srd = addOptional(a.srd, b.srd);
  const media = addOptionalMedia(a.media, b.media);
  return {
    name: a.name, sent: a.sent + b.sent, finals: a.finals + b.finals, timeouts: a.timeouts + b.timeouts, errors: a.errors + b.errors,
    challenges: a.challenges + b.challenges, acks: (a.acks ?? 0) + (b.acks ?? 0), passed: a.passed + b.passed, failed: a.failed + b.failed, received: a.received + b.received,
    codes: addCounts(a.codes, b.codes), failures: addReasonCounts(a.failures, b.failures),
    service: addRaw(a.service, b.service), corrected: addRaw(a.corrected, b.corrected),
    ...(pdd !== undefined ? { pdd } : {}),
    ...(srd !== undefined ? { srd } : {}),
    ...(media !== undefined ? { media } : {}),
  };
}

export function mergeRole(a: RoleSnapshot, b: RoleSnapshot): RoleSnapshot {
  return {
    scenario: a.scenario, role: a.role, started: a.started + b.started, passed: a.passed + b.passed, failed: a.failed + b.failed,
    running: a.running + b.running, dropped: a.dropped + b.dropped, steps: a.steps.map((s, i) => mergeStep(s, b.steps[i]!)),
    duration: addRaw(a.duration, b.duration), durationCorrected: addRaw(a.durationCorrected, b.durationCorrected),
    failureReasons: addReasonCounts(a.failureReasons, b.failureReasons),
    failureExamples: addExamples(a.failureExamples, b.failureExamples),
  };
}

/** Adds snapshots of the same run from several workers (or shards): counts added, histograms added. */
export function mergeSnapshots(a: RunSnapshot, b: RunSnapshot, maxFailures = 20): RunSnapshot {
  const roles = [...a.roles];
  for (const r of b.roles) {
    const i = roles.findIndex((x) => x.scenario === r.scenario && x.role === r.role);
    if (i >= 0) roles[i] = mergeRole(roles[i]!, r);
    else roles.push(r);
  }
  return {
    roles,
    transport: {
      retransmissionsSent: a.transport.retransmissionsSent + b.transport.retransmissionsSent,
      requestRetransmissions: addCounts(a.transport.requestRetransmissions ?? {}, b.transport.requestRetransmissions ?? {}),
      retransmissionsReceived: a.transport.retransmissionsReceived + b.transport.retransmissionsReceived,
      timeouts: a.transport.timeouts + b.transport.timeouts,
      stray: a.transport.stray + b.transport.stray,
      parseErrors: addCounts(a.transport.parseErrors, b.transport.parseErrors),
      unexpectedRequests: a.transport.unexpectedRequests + b.transport.unexpectedRequests,
      transportErrors: addCounts(a.transport.transportErrors, b.transport.transportErrors),
      ...optionalWsConnect(addOptional(a.transport.wsConnect, b.transport.wsConnect)),
    },
    health: {
      lagP99Ms: Math.max(a.health.lagP99Ms, b.health.lagP99Ms),
      lagMaxMs: Math.max(a.health.lagMaxMs, b.health.lagMaxMs),
      cpuMs: a.health.cpuMs + b.health.cpuMs,
      sendLateP99Ms: Math.max(a.health.sendLateP99Ms, b.health.sendLateP99Ms),
      sendLateMaxMs: Math.max(a.health.sendLateMaxMs, b.health.sendLateMaxMs),
      sendsOnTimeShare: Math.min(a.health.sendsOnTimeShare, b.health.sendsOnTimeShare),
      heapUsedMb: (a.health.heapUsedMb ?? 0) + (b.health.heapUsedMb ?? 0),
      workers: mergeWorkers(a.health.workers, b.health.workers),
    },
    failures: [...a.failures, ...b.failures].slice(0, maxFailures),
    conformance: mergeCheckCounts(a.conformance, b.conformance),
  };
}

function optionalWsConnect(h: RawHistogram | undefined): { wsConnect?: RawHistogram } {
  return h !== undefined ? { wsConnect: h } : {};
}

export function emptyRunSnapshot(): RunSnapshot {
  return {
    roles: [],
    transport: { retransmissionsSent: 0, retransmissionsReceived: 0, timeouts: 0, stray: 0, parseErrors: {}, unexpectedRequests: 0, transportErrors: {} },
    health: { lagP99Ms: 0, lagMaxMs: 0, cpuMs: 0, sendLateP99Ms: 0, sendLateMaxMs: 0, sendsOnTimeShare: 1 },
    failures: [],
    conformance: {},
  };
}

/**
 * The last snapshot of a worker that crashed: its running instances will never finish, so they
 * count as failed (reason `worker crashed: CODE`), and their requests still in flight as errors,
 * so that the run's counts balance.
 */
export function crashedSnapshot(s: RunSnapshot, code: string, reason = `worker crashed: ${code}`): RunSnapshot {
  return {
    ...s,
    roles: s.roles.map((r) => ({
      ...r,
      failed: r.failed + r.running,
      running: 0,
      failureReasons: r.running ? addReasonCounts(r.failureReasons, { [reason]: r.running }) : r.failureReasons,
      steps: r.steps.map((st) => ({ ...st, errors: st.errors + Math.max(0, st.sent - st.finals - st.timeouts - st.errors) })),
    })),
  };
}

/** Per-worker health of two snapshots or shards, by worker number. */
export function mergeWorkers(a: WorkerHealth[] = [], b: WorkerHealth[] = []): WorkerHealth[] {
  return [...a, ...b].sort((x, y) => x.worker - y.worker);
}
