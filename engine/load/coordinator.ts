// The coordinator on the main thread: starts N workers, gives them one start
// instant, merges their snapshots every second (live progress), stops them on
// completion, abort or a worker's failure, and returns the merged result.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { emptyRunSnapshot, mergeSnapshots, TimeSeries, type RunSnapshot, type TimePoint } from '../metrics/index.js';
import type { CompiledScenario } from '../scenario/index.js';
import type { Target } from '../transport/index.js';
import type { Credentials } from '../ua/index.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import type { LoadOverrides } from './runner.js';
import { partOf, type Part } from './segment.js';

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
  limits?: { maxHeaderBytes?: number; maxBodyBytes?: number };
  signal?: AbortSignal;
  onProgress?(snapshot: RunSnapshot, elapsedMs: number): void;
}

export interface WorkerFailure {
  worker: number;
  code: string;
  message: string;
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
}

export async function runLoad(opts: LoadRunOptions): Promise<LoadRunResult> {
  const n = Math.max(1, opts.workers ?? availableParallelism());
  const shard = opts.shard ?? { index: 0, count: 1 };
  const workers: Worker[] = [];
  const latest: (RunSnapshot | undefined)[] = new Array(n).fill(undefined);
  const finals: (RunSnapshot | undefined)[] = new Array(n).fill(undefined);
  const workerErrors: WorkerFailure[] = [];
  const timeseries = new TimeSeries();
  const cpuStart = process.cpuUsage();
  const drainMs = Math.min(opts.scenario.timeoutMs, 5000);
  let interrupted = false;

  const ready: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const cfg: WorkerConfig = {
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
    };
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: cfg });
    workers.push(w);
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    ready.push(new Promise<void>((res, rej) => ((onReady = res), (onFail = rej))));
    done.push(
      new Promise<void>((resolve) => {
        w.on('message', (m: FromWorker) => {
          if (m.type === 'ready') onReady();
          else if (m.type === 'snapshot') latest[i] = m.snapshot;
          else if (m.type === 'done') {
            finals[i] = m.snapshot;
          } else if (m.type === 'error') {
            workerErrors.push({ worker: i, code: m.code, message: m.message });
            onFail(Object.assign(new Error(`worker ${i} could not start: ${m.message}`), { code: m.code, exitCode: 3 }));
          }
        });
        w.on('error', (err: Error & { code?: string }) => {
          workerErrors.push({ worker: i, code: err.code ?? 'WORKER_CRASHED', message: err.message });
          onFail(err);
          resolve();
        });
        w.on('exit', () => resolve());
      }),
    );
  }
  try {
    await Promise.all(ready);
  } catch (err) {
    for (const w of workers) void w.terminate();
    throw err;
  }
  const startEpoch = Date.now() + 100;
  const startedAt = new Date(startEpoch);
  for (const w of workers) w.postMessage({ type: 'start', at: startEpoch } satisfies ToWorker);

  const merged = (list: (RunSnapshot | undefined)[]) => list.reduce<RunSnapshot>((acc, s) => (s ? mergeSnapshots(acc, s) : acc), emptyRunSnapshot());
  const ticker = setInterval(() => {
    const snap = merged(latest);
    const t = Date.now() - startEpoch;
    timeseries.add(t, snap);
    opts.onProgress?.(snap, t);
  }, 1000);
  const stopAll = () => {
    for (const w of workers) w.postMessage({ type: 'stop', drainMs: interrupted ? 200 : drainMs } satisfies ToWorker);
  };
  const onAbort = () => {
    interrupted = true;
    stopAll();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  // A worker that failed mid-run: stop the others and report what they had.
  const failWatch = setInterval(() => {
    if (workerErrors.length > 0) stopAll();
  }, 200);
  await Promise.all(done);
  clearInterval(ticker);
  clearInterval(failWatch);
  opts.signal?.removeEventListener('abort', onAbort);
  const cpu = process.cpuUsage(cpuStart);
  const snapshot = merged(finals.map((f, i) => f ?? latest[i]));
  snapshot.health.cpuMs = (cpu.user + cpu.system) / 1000;
  const endedAt = new Date();
  timeseries.add(endedAt.getTime() - startEpoch, snapshot);
  return { snapshot, interrupted, workerErrors, startedAt, endedAt, cpuMs: snapshot.health.cpuMs, timeseries: timeseries.points };
}
