// Micro-benchmark of the per-second snapshots (npm run bench:snapshots): what
// a worker spends to take and serialize its snapshot (v8.serialize, the
// structured clone postMessage does), and what the coordinator spends to
// deserialize it and add the seconds up (SecondsOfWorkers, TimeSeries), for W
// workers × S steps, each step recording R latencies a second into its two
// histograms; then the cost of building the result once. Not a test: numbers
// vary with the machine and its load.

import { serialize, deserialize } from 'node:v8';
import { emptyRunSnapshot, RoleMetrics, scenarioResult, SecondsOfWorkers, TimeSeries, type RunSnapshot } from '../engine/metrics/index.js';

const WORKERS = Number(process.env.WORKERS ?? 2);
const STEPS = Number(process.env.STEPS ?? 20);
const PER_SECOND = Number(process.env.PER_SECOND ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? 30);

/** A seeded generator (mulberry32) so that every run records the same latencies. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(4475);
/** Log-normal latencies around 20 ms with a long tail, like a loaded proxy. */
const latencyMs = () => Math.exp(Math.log(20) + 0.8 * Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd()));

const stepNames = Array.from({ length: STEPS }, (_, i) => `step${i}`);
const workers = Array.from({ length: WORKERS }, () => new RoleMetrics('bench', 'uac', stepNames));
const workerMs: number[] = [];
const coordinatorMs: number[] = [];
let bytes = 0;
let last: RunSnapshot | undefined;
const timeseries = new TimeSeries();
const seconds = new SecondsOfWorkers(WORKERS, (second, snap) => {
  timeseries.add(second * 1000, snap);
  last = snap;
});

for (let second = 1; second <= SECONDS; second++) {
  for (const role of workers) {
    for (let i = 0; i < PER_SECOND; i++) {
      role.started++;
      role.running++;
      for (const st of role.steps) {
        st.sent++;
        st.finals++;
        const ms = latencyMs();
        st.latency(ms, ms + rnd() * 2);
      }
      role.instanceDone(true, latencyMs() * STEPS, latencyMs() * STEPS);
    }
  }
  let w = 0;
  let c = 0;
  workers.forEach((role, slot) => {
    const t0 = performance.now();
    const wire = serialize({ type: 'snapshot', snapshot: { ...emptyRunSnapshot(), roles: [role.snapshot()] }, running: 0, second });
    const t1 = performance.now();
    const m = deserialize(wire) as { snapshot: RunSnapshot; second: number };
    seconds.report(slot, m.second, m.snapshot);
    const t2 = performance.now();
    w += t1 - t0;
    c += t2 - t1;
    bytes = wire.length;
  });
  workerMs.push(w / WORKERS);
  coordinatorMs.push(c);
}

const t0 = performance.now();
const result = scenarioResult('bench', 'bench.yaml', last!, new Date(0), new Date(SECONDS * 1000), timeseries.points);
const resultMs = performance.now() - t0;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`sipstorm snapshot benchmark, node ${process.version}, ${new Date().toISOString()}`);
console.log(`${WORKERS} workers × ${STEPS} steps × 2 histograms (+ role durations), ${PER_SECOND} calls/s per worker, ${SECONDS} s`);
console.log(`worker: snapshot + serialize     median ${median(workerMs).toFixed(2)} ms/s   mean ${mean(workerMs).toFixed(2)} ms/s   (per worker)`);
console.log(`coordinator: receive + add up    median ${median(coordinatorMs).toFixed(2)} ms/s   mean ${mean(coordinatorMs).toFixed(2)} ms/s   (all workers)`);
console.log(`bytes per snapshot message       ${bytes.toLocaleString('en-US')}`);
console.log(`result built once                ${resultMs.toFixed(1)} ms (p99 of step 0: ${result.roles[0]!.steps[0]!.service.p99} ms)`);
