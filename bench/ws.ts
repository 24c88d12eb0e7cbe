// WebSocket connections (part of `npm run bench`): 10,000 simulated UAs, each
// holding its own WebSocket (RFC 7118) and registered with digest against
// `sipstorm serve --transport ws` in another process, then idle
// (bench/ws-idle.yaml, 2 workers). Printed: the resident memory per connected
// idle UA in the generator (and in the server), from RSS sampled every second
// ((RSS while all sit idle - RSS at the start) / UAs active then), and the
// connect rate: UAs connected and registered per second until all were, with
// the connect+handshake time percentiles the result carries
// (transport.wsConnect). BENCH_WS_UAS changes the count, BENCH_WS_RATE the connects offered a second (default 100). The CPU-bound
// figures (rate, handshake times) depend on how loaded the machine is. Not a test.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const uas = Number(process.env.BENCH_WS_UAS) || 10_000;
/** New UAs (connections) a second: offered, the connect rate printed is what was achieved. */
const rate = Number(process.env.BENCH_WS_RATE) || 100;

function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const dir = mkdtempSync(join(tmpdir(), 'sipstorm-ws-'));
const server = spawn(
  process.execPath,
  ['dist/cli/main.js', 'serve', '--port', '0', '--transport', 'udp,ws', '--ws-port', '0', '--max-connections', String(uas + 1000), '--max-connections-per-address', String(uas + 1000)],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((resolve, reject) => {
  let out = '';
  server.stdout!.on('data', (d) => {
    out += d;
    const m = /ws 127\.0\.0\.1:(\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
  server.on('exit', () => reject(new Error(`serve exited: ${out}`)));
});
const json = join(dir, 'result.json');
const gen = spawn(
  process.execPath,
  // --expose-gc: the heap the result reports is the live heap (the workers collect first).
  ['--expose-gc', 'dist/cli/main.js', 'run', 'bench/ws-idle.yaml', '--target', `ws://127.0.0.1:${port}/`, '--users', String(uas), '--total', String(uas), '--rate', String(rate), '--workers', '2', '--quiet', '--no-reports', '--json', json],
  // A starved worker (a loaded machine) is given a minute before the coordinator gives up on it.
  { cwd: root, stdio: 'ignore', env: { ...process.env, SIPSTORM_WORKER_WATCHDOG_MS: process.env.SIPSTORM_WORKER_WATCHDOG_MS ?? '60000' } },
);
const samples: { gen: number; server: number }[] = [];
const timer = setInterval(() => samples.push({ gen: rssKb(gen.pid!), server: rssKb(server.pid!) }), 1000);
samples.push({ gen: rssKb(gen.pid!), server: rssKb(server.pid!) });
await new Promise((r) => gen.on('exit', r));
clearInterval(timer);
server.kill('SIGTERM');
const result = JSON.parse(readFileSync(json, 'utf8'));
rmSync(dir, { recursive: true, force: true });
const s = result.scenarios[0];
const points: { t: number; active: number; passed: number }[] = s.timeseries;
// All connected: the first second with every UA active (registered and idle); the idle window is the seconds after it.
const most = Math.max(...points.map((p) => p.active));
const full = points.find((p) => p.active >= most);
const fullAt = full ? full.t / 1000 : NaN;
const idle = points.filter((p) => full && p.t > full.t + 2000 && p.t < full.t + 25_000);
const idleSeconds = idle.map((p) => Math.round(p.t / 1000));
const startGen = samples[1]?.gen ?? samples[0]!.gen;
const startServer = samples[1]?.server ?? samples[0]!.server;
const idleGen = median(idleSeconds.map((sec) => samples[sec]?.gen ?? 0).filter(Boolean));
const idleServer = median(idleSeconds.map((sec) => samples[sec]?.server ?? 0).filter(Boolean));
const active = median(idle.map((p) => p.active));
const perUa = (kb: number, start: number) => (((kb - start) * 1024) / Math.max(1, active) / 1024).toFixed(2);
const c = s.transport.wsConnect;
console.log(
  `WebSocket, ${uas.toLocaleString('en')} UAs each on its own connection, registered with digest, idle (2 workers): ` +
    `${active} connected; generator ${perUa(idleGen, startGen)} KB per UA (RSS ${(startGen / 1024).toFixed(0)} -> ${(idleGen / 1024).toFixed(0)} MB), ` +
    `server ${perUa(idleServer, startServer)} KB per UA (RSS ${(startServer / 1024).toFixed(0)} -> ${(idleServer / 1024).toFixed(0)} MB); ` +
    `${most} connected and registered within ${fullAt} s (${Math.round(most / fullAt)} per second, ${rate} offered); ` +
    `workers' live heap at the end (connections still open) ${s.health.heapUsedMb?.toFixed(0)} MB, ${(((s.health.heapUsedMb ?? 0) * 1024) / Math.max(1, active)).toFixed(2)} KB per UA at most; ` +
    `connect+handshake p50 ${c?.p50?.toFixed(2)} ms, p99 ${c?.p99?.toFixed(2)} ms over ${c?.count} connections. ` +
    `Run: ${result.totals.passed} passed, ${result.totals.failed} failed; transport errors ${JSON.stringify(s.transport.transportErrors)}`,
);
