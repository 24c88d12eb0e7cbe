// A soak run: the embedded server in one process (`sipstorm serve`), the load
// generator in another (`sipstorm run`) at a steady rate; the generator's
// resident memory is sampled from /proc every second. Memory is flat when the
// size at the end is within 10% of the size after warm-up. With `liveHeap` the
// generator runs under --expose-gc, and the workers' live heap, one figure a
// second in the result's time series, is compared the same way: in a short
// run RSS mostly shows V8 sizing its heap, the live heap shows a leak. Warm-up must outlast
// the longest-lived state of the scenario: an answered INVITE keeps its client
// transaction for 64*T1 = 32 s (RFC 6026 Timer M), a non-INVITE one for T4 = 5 s
// (Timer K), so until then memory grows because the work in flight grows.

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
  scenario: string;
  seconds: number;
  rate: number;
  samplesKb: number[];
  warmKb: number;
  endKb: number;
  growth: number;
  /** Live heap of the workers (liveHeap runs): after warm-up, at the end, growth. */
  heap?: { warmMb: number; endMb: number; growth: number };
  lagP99Ms: number;
  passed: number;
  failed: number;
  exitCode: number | null;
}

export async function soak(opts: { seconds: number; warmupSeconds: number; rate: number; scenario?: string; liveHeap?: boolean }): Promise<SoakReport> {
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
  const gen = spawn(process.execPath, ['dist/cli/main.js', 'run', opts.scenario ?? 'scenarios/uac-call.yaml', '--target', `127.0.0.1:${port}`, '--rate', String(opts.rate), '--duration', `${opts.seconds}s`, '--workers', '1', '--quiet', '--out', dir], { cwd: root, stdio: 'ignore', env: opts.liveHeap ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc` } : process.env });
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
  let heap: SoakReport['heap'];
  if (opts.liveHeap) {
    const points: { t: number; heapMb?: number }[] = result.scenarios[0].timeseries;
    const at = (from: number, to: number) => median(points.filter((p) => p.t >= from * 1000 && p.t < to * 1000 && p.heapMb).map((p) => p.heapMb!));
    const warmMb = at(w - 2, w + 3);
    const endMb = at(opts.seconds - 5, opts.seconds);
    heap = { warmMb, endMb, growth: warmMb ? (endMb - warmMb) / warmMb : 0 };
  }
  return {
    heap,
    scenario: opts.scenario ?? 'scenarios/uac-call.yaml', seconds: opts.seconds, rate: opts.rate, samplesKb: live, warmKb, endKb, growth: warmKb ? (endKb - warmKb) / warmKb : 0,
    lagP99Ms: result.scenarios[0].health.lagP99Ms, passed: result.totals.passed, failed: result.totals.failed, exitCode,
  };
}
