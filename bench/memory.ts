// Memory per simulated UA (npm run bench:memory): the embedded server in one
// process (`sipstorm serve`), the generator in another with 2 workers, its
// resident memory sampled every second. Two loads: 100,000 UAs that register
// and then sit registered for a minute (bench/registered-idle.yaml), and
// 20,000 calls held up for a minute (bench/held-calls.yaml). Memory per UA is
// (RSS while they all wait - RSS at the start) / instances active then, from
// the run's own time series. Not a test.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function weigh(label: string, file: string, window: [number, number]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-mem-'));
  const server = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--transport', 'udp', '--max-calls', '50000'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (d) => {
      out += d;
      const m = /udp 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', () => reject(new Error(`serve exited: ${out}`)));
  });
  const json = join(dir, 'result.json');
  const gen = spawn(process.execPath, ['dist/cli/main.js', 'run', file, '--target', `127.0.0.1:${port}`, '--workers', '2', '--quiet', '--no-reports', '--json', json], { cwd: root, stdio: 'ignore' });
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssKb(gen.pid!)), 1000);
  await new Promise((r) => gen.on('exit', r));
  clearInterval(timer);
  server.kill('SIGTERM');
  const result = JSON.parse(readFileSync(json, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const startKb = median(samples.slice(0, 2));
  const heldKb = median(samples.slice(window[0], window[1]));
  const points: { t: number; active: number }[] = result.scenarios[0].timeseries;
  const active = median(points.filter((p) => p.t >= window[0] * 1000 && p.t < window[1] * 1000).map((p) => p.active));
  const perUa = ((heldKb - startKb) * 1024) / Math.max(1, active);
  console.log(`${label}: ${active} active while waiting; RSS ${(startKb / 1024).toFixed(0)} MB at the start, ${(heldKb / 1024).toFixed(0)} MB with them held: ${(perUa / 1024).toFixed(2)} KB each. Run: ${result.totals.passed} passed, ${result.totals.failed} failed`);
}

// BENCH_MEMORY=registered or =calls runs one of the two.
const only = process.env.BENCH_MEMORY;
if (!only || only === 'registered') await weigh('100,000 registered UAs', 'bench/registered-idle.yaml', [53, 59]);
if (!only || only === 'calls') await weigh('20,000 calls held', 'bench/held-calls.yaml', [23, 59]);
