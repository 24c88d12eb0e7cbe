// Sharded runs: N shards as local processes, merged, give the counts of the
// whole run. Latencies of two runs differ from run to run (more so on a busy
// machine), so what is compared is what merging must preserve, exactly: the
// merged histograms are the sum of the shards' (every percentile, count and
// max), and each merged percentile lies between the shards' own.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../engine/server/index.js';
import { decodeHistogram, percentiles } from '../../engine/metrics/index.js';

const root = new URL('../../../', import.meta.url).pathname;

t.test('3 shards merged = the whole run', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-shards-'));
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const target = `127.0.0.1:${server.endpoints[0]!.port}`;
  const common = ['dist/cli/main.js', 'run', 'scenarios/register-auth.yaml', '--target', target, '--users', '300', '--total', '301', '--rate', '300', '--workers', '1', '--quiet', '--no-reports', '--threshold', 'failed.count == 0'];
  // The server runs in this process: the CLI must be spawned asynchronously so it can answer.
  const runAsync = (args: string[]) =>
    new Promise<number | null>((resolve) => spawn(process.execPath, args, { cwd: root, stdio: 'ignore' }).on('exit', (code) => resolve(code)));
  t.equal(await runAsync([...common, '--json', join(dir, 'whole.json')]), 0, 'the whole run passes');
  // Shards run at the same time, as an Indexed Job would run them.
  const shards = await Promise.all([1, 2, 3].map((i) => runAsync([...common, '--shard', `${i}/3`, '--run-id', 'local-1', '--json', join(dir, `s${i}.json`)])));
  t.same(shards, [0, 0, 0]);
  const parts = [1, 2, 3].map((i) => JSON.parse(readFileSync(join(dir, `s${i}.json`), 'utf8')));
  t.same(parts.map((p) => p.totals.started), [101, 100, 100], 'shares of 301 add up exactly');
  const merged = spawnSync(process.execPath, ['dist/cli/main.js', 'merge', ...[1, 2, 3].map((i) => join(dir, `s${i}.json`)), '--json', join(dir, 'merged.json'), '--junit', join(dir, 'merged.xml')], { cwd: root, encoding: 'utf8' });
  t.equal(merged.status, 0, merged.stdout + merged.stderr);
  const m = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8'));
  const w = JSON.parse(readFileSync(join(dir, 'whole.json'), 'utf8'));
  t.same(m.totals, w.totals, 'same totals as the whole run');
  const ms = m.scenarios[0].roles[0].steps;
  const ws = w.scenarios[0].roles[0].steps;
  for (let i = 0; i < ws.length; i++) {
    t.equal(ms[i].sent, ws[i].sent, `${ws[i].name}: sent`);
    t.same(ms[i].codes, ws[i].codes, `${ws[i].name}: codes`);
    t.equal(ms[i].service.count, ws[i].service.count, `${ws[i].name}: latency samples`);
    for (const kind of ['service', 'corrected'] as const) {
      const sum = decodeHistogram(parts[0].scenarios[0].roles[0].steps[i][kind].histogram);
      for (const p of parts.slice(1)) sum.add(decodeHistogram(p.scenarios[0].roles[0].steps[i][kind].histogram));
      const { count, p50, p90, p99, p999, max } = percentiles(sum);
      const got = ms[i][kind];
      t.same({ count, p50, p90, p99, p999, max }, { count: got.count, p50: got.p50, p90: got.p90, p99: got.p99, p999: got.p999, max: got.max }, `${ws[i].name} ${kind}: merged percentiles are those of the added histograms`);
      for (const q of ['p50', 'p90', 'p99'] as const) {
        const own = parts.map((p) => p.scenarios[0].roles[0].steps[i][kind][q] as number);
        // A quantile of a union lies between the parts' own quantiles (to HDR's 3 significant digits).
        t.ok(got[q] >= Math.min(...own) * 0.999 && got[q] <= Math.max(...own) * 1.001, `${ws[i].name} ${kind} ${q}: merged ${got[q]} ms within the shards' ${own.join(', ')} ms`);
      }
    }
  }
  t.same(m.thresholds.map((x: { ok: boolean }) => x.ok), [true], 'thresholds evaluated again on the merged result');
  t.equal(server.stats().distinctRegistered, 300);
  const bad = spawnSync(process.execPath, ['dist/cli/main.js', 'merge', join(root, 'package.json')], { cwd: root, encoding: 'utf8' });
  t.equal(bad.status, 2, 'a file that is not a result is bad input');
  t.match(bad.stderr, /package\.json: not a sipstorm result/);
});
