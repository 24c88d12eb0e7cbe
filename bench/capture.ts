// What --trace and --pcap cost (npm run build && node dist/bench/capture.js):
// SIPp's built-in UAS on loopback (a fresh one for every run: one kept across
// runs answered fewer calls each time) answers scenarios/uac-call.yaml driven by
// sipstorm without a capture, with --trace, with --pcap and with both, in
// turn, ROUNDS times each; for each it prints the median CPU seconds per 1,000
// calls of the whole sipstorm process (workers, coordinator and the merge at
// the end, from /usr/bin/time) and the files' bytes per call. Results go to
// bench/capture-results.json. Not a test: run it on a quiet machine.
//
//   CAPTURE_CALLS=6000 CAPTURE_RATE=300 CAPTURE_ROUNDS=3 node dist/bench/capture.js

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';

const CALLS = Number(process.env.CAPTURE_CALLS ?? 6000);
const RATE = Number(process.env.CAPTURE_RATE ?? 300);
const ROUNDS = Number(process.env.CAPTURE_ROUNDS ?? 3);
const root = new URL('../../', import.meta.url).pathname;

const MODES: { name: string; flags: (dir: string) => string[]; files: string[] }[] = [
  { name: 'no capture', flags: () => [], files: [] },
  { name: '--trace', flags: (d) => ['--trace', join(d, 'trace.txt')], files: ['trace.txt'] },
  { name: '--pcap', flags: (d) => ['--pcap', join(d, 'run.pcapng')], files: ['run.pcapng'] },
  { name: '--trace --pcap', flags: (d) => ['--trace', join(d, 'trace.txt'), '--pcap', join(d, 'run.pcapng')], files: ['trace.txt', 'run.pcapng'] },
];

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Sample { cpuSeconds: number; passed: number; bytes: number }

async function runOnce(dir: string, flags: string[], files: string[]): Promise<Sample> {
  const port = await freePort();
  const uas = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-nostdin'], { cwd: dir, stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    return measure(port, dir, flags, files);
  } finally {
    uas.kill('SIGTERM');
  }
}

function measure(port: number, dir: string, flags: string[], files: string[]): Sample {
  const json = join(dir, 'result.json');
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, join(root, 'dist/cli/main.js'), 'run', join(root, 'scenarios/uac-call.yaml'),
    '--target', `127.0.0.1:${port}`, '--rate', String(RATE), '--total', String(CALLS), '--quiet', '--no-reports', '--json', json, '--i-know-what-i-am-doing', ...flags], { encoding: 'utf8', maxBuffer: 1e8 });
  const times = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  const bytes = files.reduce((a, f) => a + statSync(join(dir, f)).size, 0);
  return { cpuSeconds: times[0]! + times[1]!, passed: result.totals.passed, bytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-bench-capture-'));
  const samples = new Map<string, Sample[]>(MODES.map((m) => [m.name, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const m of MODES) {
        const s = await runOnce(dir, m.flags(dir), m.files);
        samples.get(m.name)!.push(s);
        console.log(`round ${round + 1} ${m.name}: ${s.cpuSeconds.toFixed(2)} CPU s, ${s.passed}/${CALLS} passed, ${s.bytes} bytes`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = median(samples.get('no capture')!.map((s) => s.cpuSeconds));
  const rows = MODES.map((m) => {
    const list = samples.get(m.name)!;
    const cpu = median(list.map((s) => s.cpuSeconds));
    return { mode: m.name, cpuPer1000: (cpu / CALLS) * 1000, overhead: cpu / base - 1, bytesPerCall: median(list.map((s) => s.bytes)) / CALLS, failed: Math.max(...list.map((s) => CALLS - s.passed)) };
  });
  console.log(`\n${CALLS} calls at ${RATE}/s, median of ${ROUNDS}\n| mode | CPU s per 1,000 calls | vs no capture | bytes per call | failed (worst) |\n|---|---:|---:|---:|---:|`);
  for (const r of rows) console.log(`| ${r.mode} | ${r.cpuPer1000.toFixed(3)} | ${r.overhead >= 0 ? '+' : ''}${(r.overhead * 100).toFixed(0)}% | ${Math.round(r.bytesPerCall)} | ${r.failed} |`);
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version };
  writeFileSync(join(root, 'bench/capture-results.json'), JSON.stringify({ date: new Date().toISOString(), machine, calls: CALLS, rate: RATE, rounds: ROUNDS, rows }, null, 2) + '\n');
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(3);
});
