// A load worker thread: owns one timer wheel, one socket and transaction layer
// (WorkerRuntime) and its share of the load; warms up first when that share is
// busy (warm-up.ts); posts a snapshot at every whole
// second after the run's shared start instant (labelled with that second, so
// the coordinator adds up the workers' numbers of one instant) and a final one
// at the end. Loaded as plain JavaScript from dist/.

import { parentPort, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { TimerWheel } from '../timer/index.js';
import { WorkerRuntime } from '../ua/index.js';
import type { RawHistogram, RunSnapshot } from '../metrics/index.js';
import { LoadRunner } from './runner.js';
import type { FromWorker, ToWorker, WorkerConfig } from './protocol.js';
import { healthOf } from './health.js';
import { buildBucketTables } from '../metrics/raw-buckets.js';
import { warmUp } from './warm-up.js';

const cfg = workerData as WorkerConfig;
const port = parentPort!;
/** Snapshots hand their histograms' count arrays over (transferred, not copied): each snapshot has its own. */
const post = (m: FromWorker) => port.postMessage(m, 'snapshot' in m ? histogramBuffers(m.snapshot) : undefined);

function histogramBuffers(s: RunSnapshot): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const add = (h: RawHistogram | undefined) => h && out.push(h.index.buffer as ArrayBuffer, h.count.buffer as ArrayBuffer);
  for (const r of s.roles) {
    add(r.duration);
    add(r.durationCorrected);
    for (const st of r.steps) {
      add(st.service);
      add(st.corrected);
      add(st.pdd);
      add(st.srd);
    }
  }
  return [...new Set(out)]; // a buffer listed twice would fail the post
}

/**
 * The first ArrayBuffer this isolate detaches invalidates V8's array-buffer-detaching protector, and with it every
 * optimized function that read a typed array (a Buffer) on the promise that none would ever be detached: the whole
 * codec. The first snapshot's transfer (above) did that one second into the run, and the worker ran unoptimized
 * code at full rate for a few hundred milliseconds (at 10,000/s that second's p99 went from 2 to 60-70 ms). Giving
 * up the promise before anything is optimized costs nothing later.
 */
function detachOnce(): void {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
}

async function main(): Promise<void> {
  detachOnce();
  // Quarter-millisecond ticks: arrivals due 200 µs apart (10,000/s on 2 workers) each go out on time.
  const wheel = new TimerWheel({ tickMs: 0.25 });
  const warm = await warmUp(cfg);
  const rt = await WorkerRuntime.create(cfg, wheel);
  buildBucketTables(); // read every second by healthOf
  const lagResolutionMs = 10;
  const lag = monitorEventLoopDelay({ resolution: lagResolutionMs });
  lag.enable();
  let runner: LoadRunner | undefined;
  const eluAtStart = performance.eventLoopUtilization();
  const snapshot = (): RunSnapshot => {
    const s = rt.snapshot();
    s.health = healthOf(lag, lagResolutionMs, runner?.lateness);
    const busy = performance.eventLoopUtilization(eluAtStart).utilization;
    s.health.workers = [{ worker: cfg.part.index, busy: Math.round(busy * 1000) / 1000, ...(warm && { warmUp: warm }) }];
    return s;
  };
  let tick: NodeJS.Timeout | undefined;
  let nextSecond = 1;
  /** Snapshots at startAt + k s for k = 1, 2, ...; a tick that fires late is labelled with the last second it passed. */
  const tickAt = (startAt: number) => {
    tick = setTimeout(() => {
      const second = Math.max(nextSecond, Math.floor((performance.now() - startAt) / 1000));
      post({ type: 'snapshot', snapshot: snapshot(), running: rt.runningCount, second });
      nextSecond = second + 1;
      tickAt(startAt);
    }, Math.max(0, startAt + nextSecond * 1000 - performance.now()));
  };
  let stopping = false;
  const finish = async () => {
    clearTimeout(tick);
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
          part: cfg.part, overrides: cfg.overrides, stopOnFirstFailure: cfg.stopOnFirstFailure, resume, listen: cfg.listenPort !== undefined,
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
      // A replacement (resume) starts with the first whole second still ahead.
      nextSecond = Math.max(1, Math.floor((performance.now() - startAt) / 1000) + 1);
      tickAt(startAt);
      // Fault knob for testing the harness itself: worker 0 throws this long after the start.
      // And one that hangs (a loop that never yields, as a catastrophic regular expression did): the coordinator's watchdog.
      const hangAfter = Number(process.env.SIPSTORM_FAULT_WORKER_HANG_MS ?? NaN);
      if (cfg.part.index === 0 && !m.resume && Number.isFinite(hangAfter)) {
        setTimeout(() => {
          process.stderr.write(`sipstorm: worker 0: injected worker hang (SIPSTORM_FAULT_WORKER_HANG_MS)\n`);
          for (;;);
        }, Math.max(0, delay) + hangAfter);
      }
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
