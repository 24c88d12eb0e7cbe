// What the live endpoints show of a run in progress: per scenario its latest
// merged snapshot (the coordinator's per-second one, then the workers'
// finals), its time series so far, and the service times of the recent window
// (the Prometheus summary's). Fed by `sipstorm run` from the coordinator's
// onProgress on the main thread; read by the /metrics text and the dashboard.
// Holds one scenario's few last snapshots, never a history of them.

import { emptyRunSnapshot, TimeSeries, type RawHistogram, type RunSnapshot, type StepSeries, type TimePoint } from '../engine/metrics/index.js';
import { subtractRaw } from '../engine/metrics/raw-buckets.js';
import type { CompiledScenario } from '../engine/scenario/index.js';
import type { ExportedRun, ExportedScenario } from '../reporters/prometheus.js';

/** Seconds the summary quantiles cover. */
export const WINDOW_SECONDS = 10;

interface ScenarioState {
  name: string;
  methods: Record<string, string[]>;
  askedRate?: number;
  snapshot: RunSnapshot;
  timeseries: TimePoint[];
  stepSeries: readonly StepSeries[];
  /** Cumulative service times of each step, by role, of the last WINDOW_SECONDS + 1 seconds, oldest first. */
  history: Record<string, RawHistogram[]>[];
  finished: boolean;
}

/** The method of each metrics slot of a role: a send or recv step's method, an await's async send's, a raw step's 'raw'. */
export function stepMethods(scenario: CompiledScenario): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const role of scenario.roles) {
    const methods = role.metricNames.map(() => '');
    for (const st of role.steps) {
      if (st.kind === 'send' || st.kind === 'recv') methods[st.metric] = st.method;
      else if (st.kind === 'raw') methods[st.metric] = 'raw';
      else if (st.kind === 'await') {
        const sent = role.steps.find((x) => x.kind === 'send' && x.asyncId === st.asyncId);
        methods[st.metric] = sent && sent.kind === 'send' ? sent.method : '';
      }
    }
    out[role.name] = methods;
  }
  return out;
}

function serviceTimes(snap: RunSnapshot): Record<string, RawHistogram[]> {
  return Object.fromEntries(snap.roles.map((r) => [r.role, r.steps.map((s) => s.service)]));
}

export class LiveRun {
  private readonly scenarios: ScenarioState[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly info: { version: string; shard: string; runId: string | null }) {}

  /** A scenario starts: shown from now on with zero counts. */
  begin(scenario: CompiledScenario, askedRate: number | undefined): void {
    this.scenarios.push({
      name: scenario.name, methods: stepMethods(scenario), askedRate, snapshot: emptyRunSnapshot(), timeseries: new TimeSeries().points, stepSeries: [], history: [], finished: false,
    });
    this.changed();
  }

  /** A second of the current scenario, added up over its workers: its numbers, its point of the time series, the step series so far. */
  second(snapshot: RunSnapshot, point: TimePoint, stepSeries: readonly StepSeries[]): void {
    const s = this.current();
    if (!s) return;
    s.timeseries.push(point);
    this.update(s, snapshot, stepSeries);
  }

  /** The current scenario ended: its final numbers (the workers' last snapshots) and its whole series. */
  end(snapshot: RunSnapshot, timeseries: TimePoint[], stepSeries: readonly StepSeries[]): void {
    const s = this.current();
    if (!s) return;
    s.timeseries = timeseries;
    s.finished = true;
    this.update(s, snapshot, stepSeries);
  }

  private update(s: ScenarioState, snapshot: RunSnapshot, stepSeries: readonly StepSeries[]): void {
    s.snapshot = snapshot;
    s.stepSeries = stepSeries;
    s.history.push(serviceTimes(snapshot));
    if (s.history.length > WINDOW_SECONDS + 1) s.history.shift();
    this.changed();
  }

  /** Called after every change (a second, a scenario's start or end); returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get views(): readonly Readonly<ScenarioState>[] {
    return this.scenarios;
  }

  /** The run as the Prometheus text shows it. */
  exported(): ExportedRun {
    return { ...this.info, windowSeconds: WINDOW_SECONDS, scenarios: this.scenarios.map(exportedScenario) };
  }

  private current(): ScenarioState | undefined {
    return this.scenarios[this.scenarios.length - 1];
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

function exportedScenario(s: ScenarioState): ExportedScenario {
  const now = s.history[s.history.length - 1];
  const then = s.history[0];
  const recent: Record<string, RawHistogram[]> = {};
  if (now) {
    for (const [role, steps] of Object.entries(now)) {
      recent[role] = steps.map((h, i) => {
        const before = then !== now ? then?.[role]?.[i] : undefined;
        return before ? subtractRaw(h, before) : h;
      });
    }
  }
  const last = s.timeseries[s.timeseries.length - 1];
  return {
    name: s.name, snapshot: s.snapshot, methods: s.methods, askedRate: s.askedRate, achievedRate: s.finished ? 0 : (last?.rate ?? 0), recent, finished: s.finished,
  };
}
