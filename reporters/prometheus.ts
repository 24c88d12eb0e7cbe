// The Prometheus text exposition format (version 0.0.4, which every
// Prometheus and OpenMetrics scraper reads) of a run in progress: counters,
// gauges, a histogram with fixed buckets and a recent-window summary per step,
// rendered from the run's merged snapshots. Written here rather than with
// prom-client: its registry holds its own counters, fed by observations one at
// a time, and its cluster aggregation assumes node:cluster; ours are already
// added up per second by the coordinator, and turning them into text is a
// page of code. Labels are bounded: scenario, role, step and method come from
// the scenario files, code from the status line (100..699), worker from
// --workers; never a Call-ID, a user or a peer's text.

import type { RawHistogram } from '../engine/metrics/histogram.js';
import { countsAtOrBelow, rawPercentilesMs, sumUs, totalOf } from '../engine/metrics/raw-buckets.js';
import type { RunSnapshot } from '../engine/metrics/step-metrics.js';

/** Bucket bounds of sipstorm_step_duration_seconds, in seconds: 1 ms to Timer B's 32 s. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 32] as const;
const BUCKETS_US = DURATION_BUCKETS.map((s) => Math.round(s * 1e6));
/** The quantiles of the recent-window summary. */
export const SUMMARY_QUANTILES = [0.5, 0.9, 0.99] as const;

/** One scenario of the run as the endpoint shows it: its latest merged snapshot and what goes with it. */
export interface ExportedScenario {
  name: string;
  snapshot: RunSnapshot;
  /** Method of each step, by role name and step index (a recv step's method, a raw step's 'raw'). */
  methods: Record<string, string[]>;
  /** The rate the scenario asks for (instances/s), when it has one. */
  askedRate?: number;
  /** Instances started in the last second. */
  achievedRate: number;
  /** Per role name and step index: the service times of the recent window (the summary's window). */
  recent: Record<string, RawHistogram[]>;
  /** True once the scenario's last snapshot (the workers' finals) is in. */
  finished: boolean;
}

export interface ExportedRun {
  version: string;
  shard: string;
  runId: string | null;
  windowSeconds: number;
  scenarios: ExportedScenario[];
}

/** Every family the endpoint exports, with its type and help; the Grafana dashboard's test holds its queries to these. */
export const FAMILIES = {
  sipstorm_run_info: ['gauge', 'The run: sipstorm version, shard (I/N) and run id; always 1.'],
  sipstorm_scenario_finished: ['gauge', '1 once the scenario ended and its final numbers are in, else 0.'],
  sipstorm_instances_started_total: ['counter', 'Scenario instances started.'],
  sipstorm_instances_passed_total: ['counter', 'Scenario instances that passed.'],
  sipstorm_instances_failed_total: ['counter', 'Scenario instances that failed.'],
  sipstorm_arrivals_dropped_total: ['counter', 'Arrivals not started (the concurrency cap or a late generator).'],
  sipstorm_instances_active: ['gauge', 'Scenario instances running now.'],
  sipstorm_rate_asked: ['gauge', "Instances per second the scenario asks for: the whole run's, every shard shows the same (absent in a closed model)."],
  sipstorm_rate_achieved: ['gauge', 'Instances started in the last second.'],
  sipstorm_requests_sent_total: ['counter', 'Requests a step sent (a request re-sent with credentials counts once; retransmissions apart).'],
  sipstorm_auth_challenges_total: ['counter', 'Digest challenges (401/407) a step answered with credentials.'],
  sipstorm_responses_total: ['counter', 'Responses a step received, by status code.'],
  sipstorm_request_timeouts_total: ['counter', 'Requests of a step that got no final response in time.'],
  sipstorm_request_errors_total: ['counter', 'Requests of a step that ended in a transport error.'],
  sipstorm_retransmissions_sent_total: ['counter', 'Retransmissions sent (RFC 3261 §17 timers A, E, G), all steps.'],
  sipstorm_retransmissions_received_total: ['counter', 'Retransmissions received and absorbed, all steps.'],
  sipstorm_parse_errors_total: ['counter', 'Received messages that did not parse.'],
  sipstorm_unexpected_requests_total: ['counter', 'Requests received that no instance waited for.'],
  sipstorm_stray_responses_total: ['counter', 'Responses that matched no transaction.'],
  sipstorm_generator_lag_p99_seconds: ['gauge', "p99 of the generator's event-loop lag (the worst worker)."],
  sipstorm_generator_lag_max_seconds: ['gauge', "Largest event-loop lag of the generator (the worst worker)."],
  sipstorm_generator_send_late_p99_seconds: ['gauge', 'p99 of how late arrivals started after their intended time.'],
  sipstorm_generator_sends_on_time_ratio: ['gauge', 'Share of arrivals started within 1 ms of their intended time (the worst worker).'],
  sipstorm_worker_busy_ratio: ['gauge', "Share of the run a worker's event loop was busy (near 1: the generator is the limit)."],
  sipstorm_step_duration_seconds: ['histogram', 'Service time of a step: request sent to final response.'],
  sipstorm_step_duration_recent_seconds: ['summary', 'Service time of a step: quantiles over the recent window (10 s), count and sum since the start.'],
} as const;
export type FamilyName = keyof typeof FAMILIES;

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  const body = Object.entries(pairs).map(([k, v]) => `${k}="${labelValue(v)}"`).join(',');
  return body ? `{${body}}` : '';
}

/** A sample value: integers as they are, others with enough digits, NaN and infinities spelled as the format does. */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(9)));
}

export function renderPrometheus(run: ExportedRun): string {
  const samples = new Map<FamilyName, string[]>();
  const add = (family: FamilyName, pairs: Record<string, string>, value: number, suffix = '') =>
    (samples.get(family) ?? samples.set(family, []).get(family)!).push(`${family}${suffix}${labels(pairs)} ${num(value)}`);

  add('sipstorm_run_info', { version: run.version, shard: run.shard, run_id: run.runId ?? '' }, 1);
  for (const sc of run.scenarios) {
    const s = sc.snapshot;
    const scenario = { scenario: sc.name };
    add('sipstorm_scenario_finished', scenario, sc.finished ? 1 : 0);
    for (const r of s.roles) {
      const role = { ...scenario, role: r.role };
      add('sipstorm_instances_started_total', role, r.started);
      add('sipstorm_instances_passed_total', role, r.passed);
      add('sipstorm_instances_failed_total', role, r.failed);
      add('sipstorm_arrivals_dropped_total', role, r.dropped);
      add('sipstorm_instances_active', role, r.running);
      r.steps.forEach((st, i) => {
        const step = { ...role, step: st.name, method: sc.methods[r.role]?.[i] ?? '' };
        add('sipstorm_requests_sent_total', step, st.sent);
        for (const [code, n] of Object.entries(st.codes).sort(([a], [b]) => Number(a) - Number(b))) add('sipstorm_responses_total', { ...step, code }, n);
        add('sipstorm_auth_challenges_total', step, st.challenges);
        add('sipstorm_request_timeouts_total', step, st.timeouts);
        add('sipstorm_request_errors_total', step, st.errors);
        const { below, total } = countsAtOrBelow(st.service, BUCKETS_US);
        DURATION_BUCKETS.forEach((le, k) => add('sipstorm_step_duration_seconds', { ...step, le: String(le) }, below[k]!, '_bucket'));
        add('sipstorm_step_duration_seconds', { ...step, le: '+Inf' }, total, '_bucket');
        const serviceSum = sumUs(st.service) / 1e6;
        add('sipstorm_step_duration_seconds', step, serviceSum, '_sum');
        add('sipstorm_step_duration_seconds', step, total, '_count');
        const recent = sc.recent[r.role]?.[i];
        const n = recent ? totalOf(recent) : 0;
        const q = n ? rawPercentilesMs(recent!, SUMMARY_QUANTILES.map((x) => x * 100)) : [];
        SUMMARY_QUANTILES.forEach((quantile, k) => add('sipstorm_step_duration_recent_seconds', { ...step, quantile: String(quantile) }, n ? q[k]! / 1000 : NaN));
        // As client libraries do: quantiles over the window, _sum and _count since the start (counters).
        add('sipstorm_step_duration_recent_seconds', step, serviceSum, '_sum');
        add('sipstorm_step_duration_recent_seconds', step, total, '_count');
      });
    }
    if (sc.askedRate !== undefined) add('sipstorm_rate_asked', scenario, sc.askedRate);
    add('sipstorm_rate_achieved', scenario, sc.achievedRate);
    const t = s.transport;
    add('sipstorm_retransmissions_sent_total', scenario, t.retransmissionsSent);
    add('sipstorm_retransmissions_received_total', scenario, t.retransmissionsReceived);
    add('sipstorm_parse_errors_total', scenario, Object.values(t.parseErrors).reduce((a, b) => a + b, 0));
    add('sipstorm_unexpected_requests_total', scenario, t.unexpectedRequests);
    add('sipstorm_stray_responses_total', scenario, t.stray);
    const h = s.health;
    add('sipstorm_generator_lag_p99_seconds', scenario, h.lagP99Ms / 1000);
    add('sipstorm_generator_lag_max_seconds', scenario, h.lagMaxMs / 1000);
    add('sipstorm_generator_send_late_p99_seconds', scenario, h.sendLateP99Ms / 1000);
    add('sipstorm_generator_sends_on_time_ratio', scenario, h.sendsOnTimeShare);
    for (const w of h.workers ?? []) add('sipstorm_worker_busy_ratio', { ...scenario, worker: String(w.worker) }, w.busy);
  }
  const out: string[] = [];
  for (const [family, lines] of samples) {
    const [type, help] = FAMILIES[family];
    out.push(`# HELP ${family} ${help}`, `# TYPE ${family} ${type}`, ...lines);
  }
  return out.join('\n') + '\n';
}
