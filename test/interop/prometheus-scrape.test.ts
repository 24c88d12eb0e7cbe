// Debian's Prometheus scrapes `sipstorm run --metrics-port` every second
// through a 20-second run: its HTTP API then holds the run's final numbers
// (sipstorm_instances_started_total equal to the result's totals.started, the
// requests sent equal to the steps' sent), and `promtool check metrics`
// accepts a scrape. The run lingers after its reports until Prometheus has a
// scrape of its end (polled, bounded), then a SIGINT ends the linger: no
// timing window.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import { freePort } from '../support/ports.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const missing = !existsSync(PROMETHEUS) || !existsSync(PROMTOOL);

/** Polls `probe` every 250 ms until it answers something, at most `ms`. */
async function until<T>(ms: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/** One number from Prometheus's instant query API (the sum over the series), or undefined when it has none. */
async function query(base: string, expr: string): Promise<number | undefined> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as { status: string; data: { result: { value: [number, string] }[] } };
  if (body.status !== 'success' || body.data.result.length === 0) return undefined;
  return body.data.result.reduce((a, r) => a + Number(r.value[1]), 0);
}

t.test('Prometheus scrapes a 20-second run', { skip: missing && process.env.CI !== 'true' && 'prometheus (with promtool) not installed' }, async (t) => {
  if (missing) {
    t.fail('prometheus and promtool are needed (CI=true)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-prom-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const metricsPort = await freePort();
  const promPort = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: sipstorm\n    static_configs:\n      - targets: ['127.0.0.1:${metricsPort}']\n`);
  const prom = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`, `--web.listen-address=127.0.0.1:${promPort}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let promLog = '';
  prom.stderr.on('data', (d) => (promLog = (promLog + d).slice(-4000)));
  t.teardown(() => void prom.kill('SIGKILL'));
  const base = `http://127.0.0.1:${promPort}`;
  const ready = await until(60_000, async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined));
  if (!ready) {
    t.fail(`prometheus did not become ready: ${promLog}`);
    return;
  }

  const out = join(dir, 'reports');
  const cli = spawn(process.execPath, [
    'dist/cli/main.js', 'run', 'scenarios/register-auth.yaml', '--rate', '10', '--duration', '20s', '--workers', '2',
    '--metrics-port', String(metricsPort), '--metrics-linger', '120s', '--out', out,
  ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  cli.stdout.on('data', (d) => (output += d));
  cli.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => cli.on('exit', (c) => resolve(c)));
  t.teardown(() => void cli.kill('SIGKILL'));

  // The end is in Prometheus once a scrape says the scenario finished; max_over_time reads past a stale marker.
  const finished = await until(120_000, async () => ((await query(base, 'max_over_time(sipstorm_scenario_finished[10m])')) === 1 ? true : undefined));
  t.ok(finished, 'Prometheus scraped the end of the run while it lingered');
  const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: scrape, encoding: 'utf8' });
  t.equal(check.status, 0, `promtool check metrics accepts a scrape: ${check.stdout}${check.stderr}`);
  cli.kill('SIGINT');
  t.equal(await exited, 0, `the run passed; a signal while it lingers ends the linger only (${output.slice(-300)})`);
  t.match(output, /metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/, 'the endpoint is printed');
  t.match(output, /the reports are written; ending --metrics-linger/, 'the signal is said to end the linger');

  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  t.ok(result.totals.started >= 150, `a 20-second run at 10/s (${result.totals.started} started)`);
  t.equal(await query(base, 'sum(max_over_time(sipstorm_instances_started_total[10m]))'), result.totals.started, 'sipstorm_instances_started_total = totals.started');
  t.equal(await query(base, 'sum(max_over_time(sipstorm_instances_passed_total[10m]))'), result.totals.passed, 'passed as the result says');
  const sent = result.scenarios[0].roles[0].steps.reduce((a: number, s: { sent: number }) => a + s.sent, 0);
  t.equal(await query(base, 'sum(max_over_time(sipstorm_requests_sent_total[10m]))'), sent, 'requests sent as the steps say');
  t.equal(await query(base, 'min_over_time(sipstorm_scenario_finished[10m])'), 0, 'scraped while the run went on, not only at its end');
});
