// Micro-benchmark of what the live exports add on the coordinator's main
// thread (node dist/bench/live.js after a build): per second, the per-step
// series (StepSeriesBuilder.add: one histogram difference per step); per
// scrape, the Prometheus text (renderPrometheus); per second with a viewer,
// the dashboard's charts (liveView). S steps, each recording R latencies a
// second, over N seconds. Not a test: numbers vary with the machine.

import { emptyRaw, emptyRunSnapshot, newHistogram, rawOf, recordMs, StepSeriesBuilder, type RunSnapshot } from '../engine/metrics/index.js';
import { renderPrometheus } from '../reporters/prometheus.js';
import { LiveRun } from '../live/run-state.js';
import { liveView } from '../live/dashboard.js';
import type { CompiledScenario } from '../engine/scenario/index.js';

const STEPS = Number(process.env.STEPS ?? 20);
const PER_SECOND = Number(process.env.PER_SECOND ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? 60);

let seed = 4475;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
/** Log-normal latencies around 20 ms with a long tail. */
const latencyMs = () => Math.exp(Math.log(20) + 0.8 * Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd()));

const hist = Array.from({ length: STEPS }, () => newHistogram());
const stepNames = Array.from({ length: STEPS }, (_, i) => `step${i}`);
const scenario = { name: 'bench', roles: [{ name: 'main', metricNames: stepNames, steps: stepNames.map((name, i) => ({ kind: 'send', metric: i, method: 'INVITE', name })) }] } as unknown as CompiledScenario;

function second(k: number): RunSnapshot {
  for (const h of hist) for (let i = 0; i < PER_SECOND; i++) recordMs(h, latencyMs());
  const s = emptyRunSnapshot();
  const n = PER_SECOND * k;
  s.roles.push({
    scenario: 'bench', role: 'main', started: n, passed: n, failed: 0, running: 10, dropped: 0, failureReasons: {}, duration: emptyRaw(), durationCorrected: emptyRaw(),
    steps: hist.map((h, i) => ({ name: stepNames[i]!, sent: n, finals: n, timeouts: 0, errors: 0, challenges: 0, acks: 0, passed: n, failed: 0, received: 0, codes: { 200: n - 7 * k, 503: 7 * k }, failures: {}, service: rawOf(h), corrected: rawOf(h) })),
  });
  s.health.workers = [{ worker: 0, busy: 0.4 }, { worker: 1, busy: 0.5 }];
  return s;
}

const series = new StepSeriesBuilder();
const live = new LiveRun({ version: 'bench', shard: '1/1', runId: null });
live.begin(scenario, PER_SECOND);
let seriesMs = 0;
let scrapeMs = 0;
let viewMs = 0;
let bytes = 0;
let viewBytes = 0;
for (let k = 1; k <= SECONDS; k++) {
  const snap = second(k);
  let t0 = performance.now();
  series.add(k * 1000, snap);
  seriesMs += performance.now() - t0;
  live.second(snap, { t: k * 1000, started: PER_SECOND * k, passed: PER_SECOND * k, failed: 0, active: 10, rate: PER_SECOND, p50: 0, p99: 0 }, series.series);
  t0 = performance.now();
  const text = renderPrometheus(live.exported());
  scrapeMs += performance.now() - t0;
  bytes = text.length;
  t0 = performance.now();
  viewBytes = liveView(live).html.length;
  viewMs += performance.now() - t0;
}
const per = (ms: number) => `${(ms / SECONDS).toFixed(2)} ms`;
console.log(`${STEPS} steps, ${PER_SECOND} latencies/s each, ${SECONDS} s`);
console.log(`step series:       ${per(seriesMs)} a second`);
console.log(`/metrics scrape:   ${per(scrapeMs)} a scrape, ${(bytes / 1024).toFixed(0)} KB of text`);
console.log(`dashboard charts:  ${per(viewMs)} a second (at ${SECONDS} s of run), ${(viewBytes / 1024).toFixed(0)} KB an update`);
