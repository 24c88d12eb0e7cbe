// A load worker thread: owns one timer wheel, one socket and transaction layer
// (WorkerRuntime) and its share of the load; posts a snapshot every second
// and a final one at the end. Loaded as plain JavaScript from dist/.

import { parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { TimerWheel } from '../timer/index.js';
import { WorkerRuntime } from '../ua/index.js';
import type { RunSnapshot } from '../metrics/index.js';
import { LoadRunner } from './runner.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import { healthOf } from './health.js';

const cfg = workerData as WorkerConfig;
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

async function main(): Promise<void> {
  // Quarter-millisecond ticks: arrivals due 200 µs apart (10,000/s on 2 workers) each go out on time.
  const wheel = new TimerWheel({ tickMs: 0.25 });
  const rt = await WorkerRuntime.create(cfg, wheel);
  const lagResolutionMs = 10;
  const lag = monitorEventLoopDelay({ resolution: lagResolutionMs });
  lag.enable();
  let runner: LoadRunner | undefined;
  const eluAtStart = performance.eventLoopUtilization();
  const snapshot = (): RunSnapshot => {
    const s = rt.snapshot();
    s.health = healthOf(lag, lagResolutionMs, runner?.lateness);
    const busy = performance.eventLoopUtilization(eluAtStart).utilization;
    s.health.workers = [{ worker: cfg.part.index, busy: Math.round(busy * 1000) / 1000 }];
    return s;
  };
  const keepAlive = setInterval(() => post({ type: 'snapshot', snapshot: snapshot(), running: rt.runningCount }), 1000);
  let stopping = false;
  const finish = async () => {
    clearInterval(keepAlive);
    rt.abortAll('stopped: the run ended before this instance finished');
    const final = snapshot();
    await rt.close();
    wheel.stop();
    post({ type: 'done', snapshot: final });
    port.close();
  };
  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      const startAt = performance.now() + (m.at - Date.now());
      const resume = m.resume && { at: performance.now() + (m.resume.at - Date.now()), accounted: m.resume.accounted };
      const begin = () => {
        runner = new LoadRunner(rt, wheel, {
          part: cfg.part, overrides: cfg.overrides, stopOnFirstFailure: cfg.stopOnFirstFailure, resume,
          cap: cfg.cap && { shared: cfg.cap, worker: cfg.part.index % cfg.cap.workers },
        }, startAt);
        runner.start();
        runner.done.then(() => {
          if (!stopping) {
            stopping = true;
            void finish();
          }
        });
      };
      const delay = startAt - performance.now();
      if (delay > 0) setTimeout(begin, delay);
      else begin();
      // Fault knob for testing the harness itself: worker 0 throws this long after the start.
      const throwAfter = Number(process.env.SIPSTORM_FAULT_WORKER_THROW_MS ?? NaN);
      if (cfg.part.index === 0 && !m.resume && Number.isFinite(throwAfter)) {
        setTimeout(() => {
          throw Object.assign(new Error('injected worker fault (SIPSTORM_FAULT_WORKER_THROW_MS)'), { code: 'FAULT_INJECTED' });
        }, Math.max(0, delay) + throwAfter);
      }
    } else if (m.type === 'stop') {
      if (stopping) return;
      stopping = true;
      runner?.stop();
      // Let running instances end on their own for a grace period, then stop them.
      const deadline = Date.now() + m.drainMs;
      const poll = setInterval(() => {
        if (rt.runningCount === 0 || Date.now() >= deadline) {
          clearInterval(poll);
          void finish();
        }
      }, 20);
    }
  });
  post({ type: 'ready' });
}

main().catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  post({ type: 'error', code: e.code ?? 'WORKER_FAILED', message: e.message ?? String(err) });
  process.exit(1);
});
