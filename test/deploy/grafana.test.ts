// deploy/grafana/sipstorm.json is a Grafana dashboard whose queries ask for
// metrics the endpoint really exports: its structure is dashboard JSON (uid,
// schemaVersion, panels on the 24-column grid with unique ids, targets with
// refIds), every sipstorm_* name in its queries is in a scrape of a real run,
// and promtool parses every query (as recording rules). The Kubernetes scrape
// example keeps the pods of the sharded Job on the port they serve.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/cli.js';
import { spawnLiveRun } from '../support/live-run.js';
import { FAMILIES } from '../../reporters/prometheus.js';

const PROMTOOL = '/usr/bin/promtool';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; legendFormat?: string }[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/sipstorm.json'), 'utf8')) as {
  title: string; uid: string; schemaVersion: number; panels: Panel[]; templating: { list: { name: string; type: string }[] };
};
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr));
/** Metric names of the queries, histogram and summary series reduced to their family. */
const names = [...new Set(exprs.flatMap((e) => e.match(/\bsipstorm_[a-z0-9_]+/g) ?? []))];
const family = (name: string) => name.replace(/_(bucket|sum|count)$/, '');

t.test('dashboard JSON', async (t) => {
  t.type(dashboard.title, 'string');
  t.match(dashboard.uid, /^[a-zA-Z0-9_-]{1,40}$/, 'a uid Grafana accepts');
  t.ok(Number.isInteger(dashboard.schemaVersion) && dashboard.schemaVersion >= 30, 'a schemaVersion of current Grafana');
  t.same(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids unique');
  for (const p of dashboard.panels) {
    t.ok(['timeseries', 'stat', 'row'].includes(p.type), `${p.title}: a known panel type (${p.type})`);
    const g = p.gridPos;
    t.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `${p.title}: on the 24-column grid`);
    if (p.type === 'row') continue;
    t.ok((p.targets ?? []).length > 0, `${p.title}: has queries`);
    t.same(new Set(p.targets!.map((x) => x.refId)).size, p.targets!.length, `${p.title}: refIds unique`);
    t.equal(p.datasource?.uid, '${datasource}', `${p.title}: on the dashboard's Prometheus variable`);
  }
  t.ok(dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'), 'a datasource variable');
  for (const title of ['Rate asked vs achieved', 'Active', 'Passed and failed', 'p50 and p99', 'Response codes', 'lag']) {
    t.ok(dashboard.panels.some((p) => p.title.includes(title)), `a panel for ${title}`);
  }
  for (const n of names) t.ok(family(n) in FAMILIES, `${n} is a family the endpoint declares`);
});

t.test('every metric the dashboard asks for is in a real scrape', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-grafana-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = spawnLiveRun(['scenarios/register-auth.yaml', '--rate', '10', '--total', '10', '--workers', '2', '--metrics-port', '0', '--metrics-linger', '120s', '--no-reports']);
  t.teardown(() => void run.child.kill('SIGKILL'));
  const url = await run.url('metrics');
  // The run's end is printed (its verdict line) before it lingers: a scrape then has every family.
  await new Promise<void>((resolve) => {
    const look = () => (/^(PASSED|FAILED)/m.test(run.output()) || run.child.exitCode !== null ? resolve() : setTimeout(look, 50));
    look();
  });
  const scrape = await (await fetch(url)).text();
  run.child.kill('SIGINT');
  t.equal(await run.exited, 0, 'the run passed');
  const exported = new Set([...scrape.matchAll(/^(sipstorm_[a-z0-9_]+)[{ ]/gm)].map((m) => m[1]!));
  for (const n of names) t.ok(exported.has(n), `${n} is exported`);
});

t.test('promtool parses every query', { skip: !existsSync(PROMTOOL) && process.env.CI !== 'true' && 'promtool not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-grafana-rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Grafana's variables replaced by what they stand for.
  const rules = exprs.map((e, i) => ({ record: `sipstorm:dashboard_query_${i}`, expr: e.replace(/\$__rate_interval/g, '1m').replace(/\$scenario/g, '.*') }));
  writeFileSync(join(dir, 'rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
  const check = spawnSync(PROMTOOL, ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
  t.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  t.match(check.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

t.test('the Kubernetes scrape example finds the shards', async (t) => {
  const cm = parse(readFileSync(join(ROOT, 'deploy/kubernetes/sipstorm-prometheus.yaml'), 'utf8'));
  const prom = parse(cm.data['prometheus.yml']);
  const job = prom.scrape_configs[0];
  const keep = (label: string) => job.relabel_configs.find((r: { source_labels: string[]; action?: string }) => r.action === 'keep' && r.source_labels.includes(label))?.regex;
  const shards = parse(readFileSync(join(ROOT, 'deploy/kubernetes/sipstorm-shards.yaml'), 'utf8'));
  const container = shards.spec.template.spec.containers[0];
  t.equal(keep('__meta_kubernetes_pod_label_job_name'), shards.metadata.name, "keeps the pods of the shards' Job");
  const port = container.ports.find((p: { name: string }) => p.name === keep('__meta_kubernetes_pod_container_port_name'));
  t.ok(port, 'on the container port it names');
  const args = container.args.join(' ');
  t.match(args, new RegExp(`--metrics-port ${port.containerPort}\\b`), 'where the shard serves its metrics');
  t.match(args, /--metrics-host 0\.0\.0\.0/, 'reachable from outside the pod');
  t.match(args, /--metrics-linger \d+s/, 'up after the reports for the last scrape');
});
