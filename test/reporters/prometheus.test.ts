// The Prometheus text of a run: every family once with its HELP and TYPE,
// label values escaped (a scenario named with quotes, backslashes and a line
// feed stays one label), histogram buckets cumulative up to +Inf = _count, an
// empty recent window as NaN quantiles; promtool accepts it.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { emptyRaw, emptyRunSnapshot, newHistogram, rawOf, recordMs } from '../../engine/metrics/index.js';
import { renderPrometheus, type ExportedScenario } from '../../reporters/prometheus.js';

const PROMTOOL = '/usr/bin/promtool';

function scenario(name: string, recentMs: number[]): ExportedScenario {
  const h = newHistogram();
  for (const v of [1, 2, 3, 40, 900]) recordMs(h, v);
  const recent = newHistogram();
  for (const v of recentMs) recordMs(recent, v);
  const s = emptyRunSnapshot();
  s.roles.push({
    scenario: name, role: 'caller', started: 5, passed: 4, failed: 1, running: 0, dropped: 2, failureReasons: {}, duration: emptyRaw(), durationCorrected: emptyRaw(),
    steps: [{ name: 'INVITE "x"', sent: 5, finals: 5, timeouts: 0, errors: 0, challenges: 1, acks: 0, passed: 4, failed: 1, received: 0, codes: { 200: 4, 486: 1 }, failures: {}, service: rawOf(h), corrected: rawOf(h) }],
  });
  s.health.workers = [{ worker: 0, busy: 0.25 }, { worker: 1, busy: 0.5 }];
  return { name, snapshot: s, methods: { caller: ['INVITE'] }, askedRate: 10, achievedRate: 9, recent: { caller: [rawOf(recent)] }, finished: false };
}

t.test('text format', async (t) => {
  const text = renderPrometheus({ version: '1.2.3', shard: '1/2', runId: 'ci-7', windowSeconds: 10, scenarios: [scenario('calls "a"\\b\nc', [5, 5, 5]), scenario('idle', [])] });
  const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
  t.equal(new Set(families).size, families.length, 'each family once');
  t.match(text, /^sipstorm_instances_started_total\{scenario="calls \\"a\\"\\\\b\\nc",role="caller"\} 5$/m, 'label values escaped');
  t.match(text, /^sipstorm_responses_total\{[^}]*step="INVITE \\"x\\"",method="INVITE",code="486"\} 1$/m, 'responses by code, with the method');
  const buckets = [...text.matchAll(/^sipstorm_step_duration_seconds_bucket\{scenario="idle"[^}]*le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])] as const);
  t.same(buckets.map(([, n]) => n), [1, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5], 'cumulative buckets of 1, 2, 3, 40 and 900 ms');
  t.equal(buckets[buckets.length - 1]![0], '+Inf');
  t.match(text, /^sipstorm_step_duration_seconds_count\{scenario="idle"[^}]*\} 5$/m, '+Inf = _count');
  t.match(text, /^sipstorm_step_duration_recent_seconds\{scenario="idle"[^}]*quantile="0.99"\} NaN$/m, 'an empty window: NaN quantiles');
  t.match(text, /^sipstorm_step_duration_recent_seconds\{scenario="calls[^}]*quantile="0.5"\} 0.005/m, 'the window quantile in seconds');
  t.match(text, /^sipstorm_worker_busy_ratio\{scenario="idle",worker="1"\} 0.5$/m, 'per worker busy share');
  t.match(text, /^sipstorm_run_info\{version="1.2.3",shard="1\/2",run_id="ci-7"\} 1$/m);
  if (!existsSync(PROMTOOL)) return;
  const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
});
