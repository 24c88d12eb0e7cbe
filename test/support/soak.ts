// A soak run: the embedded server in one process (`sipstorm serve`), the load
// generator in another (`sipstorm run`) at a steady rate; the generator's
// resident memory is sampled from /proc every second. Memory is flat when the
// size at the end is within 10% of the size after warm-up.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface SoakReport {
  seconds: number;
  rate: number;
  samplesKb: number[];
  warmKb: number;
  endKb: number;
  growth: number;
  lagP99Ms: number;
  passed: number;
  failed: number;
  exitCode: number | null;
}

export async function soak(opts: { seconds: number; warmupSeconds: number; rate: number }): Promise<SoakReport> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-soak-'));
  const server = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--transport', 'udp'], { cwd: root });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = /listening on udp 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    server.on('exit', () => reject(new Error(`serve exited: ${out}`)));
  });
  const gen = spawn(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/uac-call.yaml', '--target', `127.0.0.1:${port}`, '--rate', String(opts.rate), '--duration', `${opts.seconds}s`, '--workers', '1', '--quiet', '--out', dir], { cwd: root, stdio: 'ignore' });
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rssKb(gen.pid!)), 1000);
  const exitCode = await new Promise<number | null>((r) => gen.on('exit', (c) => r(c)));
  clearInterval(timer);
  server.kill('SIGTERM');
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const live = samples.filter((s) => s > 0);
  // Warm-up size: the median of the samples around the end of warm-up; end size: median of the last 5 while loaded.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const w = opts.warmupSeconds;
  const warmKb = median(live.slice(Math.max(0, w - 2), w + 3));
  const loaded = live.slice(0, opts.seconds);
  const endKb = median(loaded.slice(-5));
  return {
    seconds: opts.seconds, rate: opts.rate, samplesKb: live, warmKb, endKb, growth: warmKb ? (endKb - warmKb) / warmKb : 0,
    lagP99Ms: result.scenarios[0].health.lagP99Ms, passed: result.totals.passed, failed: result.totals.failed, exitCode,
  };
}
