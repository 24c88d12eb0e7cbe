// The coordinator on the main thread: starts N workers, gives them one start
// instant, adds up their snapshots second by second of the run (live progress
// and the time series: each second's numbers are the workers' at that second,
// see SecondsOfWorkers), stops them on completion, abort or a worker's
// failure, and returns the merged result.
// A watchdog ends workers that stop answering: one that posts no snapshot for
// watchdogMs, or that has not finished a grace period after being told to
// stop, is terminated and its running instances count as failed ("worker
// unresponsive"), so that a stuck worker can neither hang a run nor its Ctrl-C.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { buildBucketTables } from '../metrics/raw-buckets.js';
import { crashedSnapshot, emptyRunSnapshot, mergeSnapshots, SecondsOfWorkers, StepSeriesBuilder, TimeSeries, type RunSnapshot, type StepSeries, type TimePoint } from '../metrics/index.js';
import type { CompiledScenario } from '../scenario/index.js';
import type { Target } from '../transport/index.js';
import type { Credentials } from '../ua/index.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import type { LoadOverrides } from './runner.js';
import { partOf, type Part } from './segment.js';
import { releaseWorker, sharedCap } from './concurrency.js';
import type { WorkerCapture } from '../capture/index.js';

export interface LoadRunOptions {
  scenario: CompiledScenario;
  target: Target;
  localHost: string;
  workers?: number;
  shard?: Part;
  overrides?: LoadOverrides;
  credentials?: Credentials;
  stopOnFirstFailure?: boolean;
  tls?: { insecure?: boolean; caFile?: string };
  /** WebSocket targets: the upgrade's Origin and extra headers (the path comes with the target). */
  ws?: { origin?: string; headers?: Record<string, string> };
  limits?: { maxHeaderBytes?: number; maxBodyBytes?: number };
  /** Check received messages against the conformance catalog (default true). */
  checks?: boolean;
  /** One socket per simulated UA instead of one per worker (SIPp's -t un). */
  socketPerUa?: boolean;
  /** false: no warm-up before the start (--no-warm-up; warm-up.ts). */
  warmUp?: boolean;
  /** --listen: the one worker's socket binds this port and serves callers (use with one worker). */
  listenPort?: number;
  /** --trace, --trace-failed, --pcap, --tls-keylog: what every worker records (CaptureSession.worker()). */
  capture?: WorkerCapture;
  /** Replace a worker that crashes mid-run instead of ending the run (up to MAX_RESTARTS_PER_WORKER per worker). */
  restartWorkers?: boolean;
  signal?: AbortSignal;
  /** A worker silent this long (no snapshot; they come every second) is terminated. Default WATCHDOG_MS. */
  watchdogMs?: number;
  /** Once per second of the run: the workers' numbers at that second, its point of the time series, and the per-step series so far. */
  onProgress?(snapshot: RunSnapshot, elapsedMs: number, point: TimePoint, steps: readonly StepSeries[]): void;
  /** A worker crashed or was found unresponsive (as it happens, for a console line). */
  onWorkerFailure?(failure: WorkerFailure): void;
}

export interface WorkerFailure {
  worker: number;
  code: string;
  message: string;
  /** A replacement took over its share of the load (--restart-workers). */
  restarted?: boolean;
}

export interface LoadRunResult {
  snapshot: RunSnapshot;
  interrupted: boolean;
  workerErrors: WorkerFailure[];
  startedAt: Date;
  endedAt: Date;
  cpuMs: number;
  /** One point a second, and one at the end. */
  timeseries: TimePoint[];
  /** Per step, one point a second, and one at the end. */
  stepSeries: StepSeries[];
}

/** A crashed worker is replaced at most this many times per slot (--restart-workers). */
export const MAX_RESTARTS_PER_WORKER = 3;
/** Snapshots come every second: ten missed in a row is a worker stuck in a loop, not a busy one. */
export const WATCHDOG_MS = 10_000;
/**
 * After its drain time, how long a worker stopped by Ctrl-C/SIGTERM has to close and post its final
 * snapshot (a stop at the end of the load gives it WATCHDOG_MS: a slow machine is no reason to fail).
 */
export const STOP_GRACE_MS = 3000;
const UNRESPONSIVE = 'WORKER_UNRESPONSIVE';

export async function runLoad(opts: LoadRunOptions): Promise<LoadRunResult> {
  const n = Math.max(1, opts.workers ?? availableParallelism());
  const shard = opts.shard ?? { index: 0, count: 1 };
  const workers: (Worker | undefined)[] = new Array(n).fill(undefined);
  const latest: (RunSnapshot | undefined)[] = new Array(n).fill(undefined);
  const finals: (RunSnapshot | undefined)[] = new Array(n).fill(undefined);
  /** Last snapshots of crashed workers, their running instances counted as failed. */
  const dead: RunSnapshot[] = [];
  /** Per slot and role: arrivals its crashed incarnations started or dropped. */
  const accounted: number[][] = Array.from({ length: n }, () => []);
  const restarts: number[] = new Array(n).fill(0);
  /** When each slot's worker was last heard from (any message), and how to end it as failed. */
  const heardAt: number[] = new Array(n).fill(0);
  const kill: (((code: string, message: string) => void) | undefined)[] = new Array(n).fill(undefined);
  const watchdogMs = opts.watchdogMs ?? WATCHDOG_MS;
  let stopDeadline = Infinity;
  let stopAskedAt = 0;
  const workerErrors: WorkerFailure[] = [];
  const timeseries = new TimeSeries();
  buildBucketTables(); // now, not inside the first second, while the workers run (timeseries and stepSeries read them)
  const stepSeries = new StepSeriesBuilder();
  const seconds = new SecondsOfWorkers(n, (second, snap) => {
    timeseries.add(second * 1000, snap);
    stepSeries.add(second * 1000, snap);
    opts.onProgress?.(snap, second * 1000, timeseries.points[timeseries.points.length - 1]!, stepSeries.series);
  });
  const cpuStart = process.cpuUsage();
  const drainMs = Math.min(opts.scenario.timeoutMs, 5000);
  let interrupted = false;
  let started = false;
  let stopping = false;
  let startEpoch = 0;
  let live = 0;
  /** --max-concurrent / load.maxConcurrent hold for the whole run: counters every worker shares. */
  const cap = sharedCap(opts.scenario.roles.length, n);
  let allExited!: () => void;
  const exited = new Promise<void>((resolve) => (allExited = resolve));

  const configOf = (i: number): WorkerConfig => ({
    scenario: opts.scenario,
    target: opts.target.endpoint,
    targetHostText: opts.target.hostText,
    targetUri: opts.target.uri,
    localHost: opts.localHost,
    credentials: opts.credentials,
    part: partOf(shard, i, n),
    overrides: opts.overrides ?? {},
    stopOnFirstFailure: opts.stopOnFirstFailure ?? false,
    drainMs,
    tls: opts.tls,
    limits: opts.limits,
    checks: opts.checks,
    socketPerUa: opts.socketPerUa,
    warmUp: opts.warmUp,
    listenPort: opts.listenPort,
    ws: opts.target.path !== undefined ? { path: opts.target.path, ...opts.ws } : undefined,
    capture: opts.capture,
    cap,
  });

  const stopAll = () => {
    const drain = interrupted ? 200 : drainMs;
    if (!stopping) stopAskedAt = Date.now();
    if (!stopping || interrupted) stopDeadline = Math.min(stopDeadline, Date.now() + drain + (interrupted ? STOP_GRACE_MS : watchdogMs));
    stopping = true;
    for (const w of workers) w?.postMessage({ type: 'stop', drainMs: drain } satisfies ToWorker);
  };

  const onCrash = (i: number, failure: WorkerFailure) => {
    const code = failure.code;
    releaseWorker(cap, i, opts.scenario.roles.length);
    const last = latest[i];
    latest[i] = undefined;
    if (last) {
      dead.push(crashedSnapshot(last, code, code === UNRESPONSIVE ? 'worker unresponsive' : undefined));
      last.roles.forEach((r, j) => (accounted[i]![j] = (accounted[i]![j] ?? 0) + r.started + r.dropped));
    }
    seconds.crash(i, last && dead[dead.length - 1]);
    if (!opts.restartWorkers || stopping || restarts[i]! >= MAX_RESTARTS_PER_WORKER) return stopAll();
    restarts[i]!++;
    failure.restarted = true;
    spawn(i).then(
      () => {
        if (stopping) return workers[i]?.postMessage({ type: 'stop', drainMs: 0 } satisfies ToWorker);
        workers[i]!.postMessage({ type: 'start', at: startEpoch, resume: { at: Date.now(), accounted: accounted[i]! } } satisfies ToWorker);
      },
      () => stopAll(),
    );
  };

  /** Starts the worker of slot i; resolves when it is ready, rejects if it fails first. */
  const spawn = (i: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: configOf(i) });
      workers[i] = w;
      if (started) seconds.revive(i);
      live++;
      let failed = false;
      let finished = false;
      heardAt[i] = Date.now();
      const fail = (code: string, message: string) => {
        if (failed || finished) return;
        failed = true;
        kill[i] = undefined;
        const failure: WorkerFailure = { worker: i, code, message };
        workerErrors.push(failure);
        reject(Object.assign(new Error(`worker ${i} could not start: ${message}`), { code, exitCode: 3 }));
        if (!started) return;
        onCrash(i, failure);
        opts.onWorkerFailure?.(failure);
      };
      kill[i] = (code, message) => {
        fail(code, message);
        void w.terminate();
      };
      w.on('message', (m: FromWorker) => {
        heardAt[i] = Date.now();
        if (m.type === 'ready') resolve();
        else if (m.type === 'snapshot') {
          latest[i] = m.snapshot;
          seconds.report(i, m.second, m.snapshot);
        } else if (m.type === 'done') {
          finished = true;
          kill[i] = undefined;
          finals[i] = m.snapshot;
          seconds.finish(i, m.snapshot);
        } else if (m.type === 'error') fail(m.code, m.message);
      });
      w.on('error', (err: Error & { code?: string }) => fail(err.code ?? 'WORKER_CRASHED', err.message));
      w.on('exit', (exitCode) => {
        if (!finished) fail('WORKER_EXITED', `the worker exited (code ${exitCode}) before reporting its results`);
        if (--live === 0) allExited();
      });
    });

  try {
    await Promise.all(workers.map((_, i) => spawn(i)));
  } catch (err) {
    for (const w of workers) void w?.terminate();
    throw err;
  }
  startEpoch = Date.now() + 100;
  const startedAt = new Date(startEpoch);
  started = true;
  for (const w of workers) w!.postMessage({ type: 'start', at: startEpoch } satisfies ToWorker);

  const merged = (list: (RunSnapshot | undefined)[]) => list.reduce<RunSnapshot>((acc, s) => (s ? mergeSnapshots(acc, s) : acc), emptyRunSnapshot());
  const watchdog = () => {
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const end = kill[i];
      if (!end) continue;
      const running = latest[i]?.roles.reduce((a, r) => a + r.running, 0) ?? 0;
      const counted = `its ${running} running instance${running === 1 ? '' : 's'} count as failed (worker unresponsive)`;
      if (now - heardAt[i]! > watchdogMs) end(UNRESPONSIVE, `no snapshot for ${Math.round((now - heardAt[i]!) / 1000)} s: terminated; ${counted}`);
      else if (now > stopDeadline) end(UNRESPONSIVE, `still running ${Math.round((now - stopAskedAt) / 1000)} s after it was told to stop: terminated; ${counted}`);
    }
  };
  // The watchdog looks more often than once a second so that a stop's grace ends on time.
  const watcher = setInterval(watchdog, 250);
  const onAbort = () => {
    interrupted = true;
    stopAll();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  await exited;
  clearInterval(watcher);
  opts.signal?.removeEventListener('abort', onAbort);
  const cpu = process.cpuUsage(cpuStart);
  const snapshot = merged([...dead, ...finals.map((f, i) => f ?? latest[i])]);
  snapshot.health.cpuMs = (cpu.user + cpu.system) / 1000;
  const endedAt = new Date();
  timeseries.add(endedAt.getTime() - startEpoch, snapshot);
  stepSeries.add(endedAt.getTime() - startEpoch, snapshot);
  return { snapshot, interrupted, workerErrors, startedAt, endedAt, cpuMs: snapshot.health.cpuMs, timeseries: timeseries.points, stepSeries: stepSeries.series };
}
