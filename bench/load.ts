// Load benchmark (npm run bench): SIPp's built-in UAS on loopback is driven,
// alternately at the same rates, by SIPp's built-in UAC and by sipstorm
// running scenarios/uac-call.yaml, with its default workers (one per core)
// and with one (SIPp runs in one thread). For each tool and rate it prints the load
// generator's CPU seconds per 1,000 calls (from the kernel's accounting of
// the child process, via bash's `times`), failed calls, and the highest rate
// that completed every call; then the ratios sipstorm / SIPp. Results go to
// bench/results.json. Then what the conformance checks cost: sipstorm at one
// rate with the catalog on and off (--no-checks), alternately, three times
// each, medians compared. Then a registrar: Kamailio (2 children, the tests'
// config, started here) registering users with digest authentication, driven
// by SIPp (test/fixtures/sipp/register-auth.xml) and by sipstorm
// (bench/register-once.yaml), the same 401-then-200 exchange, at the same
// rates: CPU per 1,000 registrations, failed, retransmissions.
// Not a test: run it on a quiet machine.
//
//   BENCH_CALLS=30000 BENCH_RATES=500,1000,2000,3000 BENCH_CHECKS_RATE=1000 npm run bench
//   BENCH_RATES= npm run bench      (only the checks part; BENCH_CHECKS_RATE=0 skips it)
//   BENCH_REGISTER_RATES=1000,2000,4000 BENCH_REGISTER_COUNT=20000 (BENCH_REGISTER_RATES= skips it)
//
// Before/after: BENCH_BASELINE=/path/to/another/checkout (built) runs that build's sipstorm too,
// alternating with this one at every rate, BENCH_REPEAT times (default 3), default workers and one worker
// each, and prints medians: on a machine shared with other work only runs taken side by side compare.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { timed } from './child-cpu.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 30000);
const RATES = (process.env.BENCH_RATES ?? '500,1000,2000,3000').split(',').filter(Boolean).map(Number);
const CHECKS_RATE = Number(process.env.BENCH_CHECKS_RATE ?? 1000);
const REGISTER_RATES = (process.env.BENCH_REGISTER_RATES ?? '1000,2000,4000').split(',').filter(Boolean).map(Number);
const REGISTER_COUNT = Number(process.env.BENCH_REGISTER_COUNT ?? 20000);
const REGISTER_USERS = 10000;
const root = new URL('../../', import.meta.url).pathname;
const BASELINE = process.env.BENCH_BASELINE;
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Row { tool: string; rate: number; calls: number; ok: number; failed: number; cpuSeconds: number; cpuPer1000: number; wallSeconds: number; workers?: number }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** This build against BENCH_BASELINE's, alternately, at each rate: SIPp, then each build with its default workers and with one. */
function beforeAfter(port: number, dir: string, baseline: string): Row[] {
  const rows: Row[] = [];
  const runs: [string, (rate: number) => Row][] = [
    ['SIPp', (rate) => sippRun(port, rate, dir)],
    ['after', (rate) => sipstormRun(port, rate, dir)],
    ['before', (rate) => sipstormRun(port, rate, dir, [], baseline)],
    ['after -w1', (rate) => sipstormRun(port, rate, dir, ['--workers', '1'])],
    ['before -w1', (rate) => sipstormRun(port, rate, dir, ['--workers', '1'], baseline)],
  ];
  for (let i = 0; i < REPEAT; i++) {
    for (const rate of RATES) {
      for (const [label, run] of runs) {
        const row = { ...run(rate), tool: label };
        rows.push(row);
        console.log(`round ${i + 1} ${label.padEnd(11)} rate ${String(rate).padStart(5)}/s: ${row.ok}/${row.calls} ok, ${row.failed} failed, ${row.cpuPer1000.toFixed(3)} CPU s per 1,000 calls${row.workers ? `, ${row.workers} worker${row.workers > 1 ? 's' : ''}` : ''}, ${row.wallSeconds.toFixed(1)} s wall`);
      }
    }
  }
  console.log(`\nmedians of ${REPEAT} alternated runs, CPU s per 1,000 calls (ratio to SIPp):`);
  console.log(`| rate/s | SIPp | after, default workers | before, default workers | after -w1 | before -w1 | after/before default | after/before -w1 | failed (all runs) |`);
  console.log(`|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
  for (const rate of RATES) {
    const of = (tool: string) => rows.filter((r) => r.tool === tool && r.rate === rate);
    const m = (tool: string) => median(of(tool).map((r) => r.cpuPer1000));
    const w = (tool: string) => of(tool)[0]?.workers ?? '?';
    const sipp = m('SIPp');
    const cell = (tool: string) => `${m(tool).toFixed(3)} (${(m(tool) / sipp).toFixed(2)})`;
    const failed = rows.filter((r) => r.rate === rate).reduce((n, r) => n + r.failed, 0);
    console.log(`| ${rate} | ${sipp.toFixed(3)} | ${cell('after')} [${w('after')}w] | ${cell('before')} [${w('before')}w] | ${cell('after -w1')} | ${cell('before -w1')} | ${(m('after') / m('before')).toFixed(2)} | ${(m('after -w1') / m('before -w1')).toFixed(2)} | ${failed} |`);
  }
  return rows;
}

function sippRun(port: number, rate: number, dir: string): Row {
  const stf = join(dir, 'uac.csv');
  const start = Date.now();
  const t = timed(['sipp', '-sn', 'uac', `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', '0', '-r', String(rate), '-m', String(CALLS), '-d', '100', '-nostdin', '-timeout', `${Math.ceil(CALLS / rate) + 60}s`, '-trace_stat', '-stf', stf], dir);
  const lines = readFileSync(stf, 'utf8').trim().split('\n');
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const ok = Number(last[header.indexOf('SuccessfulCall(C)')]);
  const failed = Number(last[header.indexOf('FailedCall(C)')]);
  return { tool: 'SIPp', rate, calls: CALLS, ok, failed: failed + (CALLS - ok - failed), cpuSeconds: t.cpuSeconds, cpuPer1000: (t.cpuSeconds / CALLS) * 1000, wallSeconds: (Date.now() - start) / 1000 };
}

function sipstormRun(port: number, rate: number, dir: string, extra: string[] = [], build = root): Row {
  const json = join(dir, 'result.json');
  const start = Date.now();
  const t = timed([process.execPath, join(build, 'dist/cli/main.js'), 'run', join(root, 'scenarios/uac-call.yaml'), '--target', `127.0.0.1:${port}`, '--rate', String(rate), '--total', String(CALLS), '--quiet', '--no-reports', '--json', json, '--i-know-what-i-am-doing', ...extra], dir);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  const tool = `${build === root ? 'sipstorm' : 'baseline'}${extra.length ? ` ${extra.join(' ')}` : ''}`;
  return { tool, rate, calls: CALLS, ok: result.totals.passed, failed: CALLS - result.totals.passed, cpuSeconds: t.cpuSeconds, cpuPer1000: (t.cpuSeconds / CALLS) * 1000, wallSeconds: (Date.now() - start) / 1000, workers: result.settings?.workers };
}

interface RegRow { tool: string; rate: number; count: number; ok: number; failed: number; retransmissions: number; cpuPer1000: number }

function sippRegister(port: number, rate: number, dir: string): RegRow {
  const users = join(dir, 'users.csv');
  writeFileSync(users, ['SEQUENTIAL', ...Array.from({ length: REGISTER_USERS }, (_, i) => `user${i + 1};secret${i + 1}`)].join('\n') + '\n');
  const stf = join(dir, 'reg.csv');
  const t = timed(['sipp', `127.0.0.1:${port}`, '-sf', join(root, 'test/fixtures/sipp/register-auth.xml'), '-inf', users, '-i', '127.0.0.1', '-p', '0', '-r', String(rate), '-m', String(REGISTER_COUNT), '-nostdin', '-timeout', `${Math.ceil(REGISTER_COUNT / rate) + 60}s`, '-trace_stat', '-stf', stf], dir);
  const lines = readFileSync(stf, 'utf8').trim().split('\n');
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (name: string) => Number(last[header.indexOf(name)] ?? 0);
  const ok = col('SuccessfulCall(C)');
  return { tool: 'SIPp', rate, count: REGISTER_COUNT, ok, failed: REGISTER_COUNT - ok, retransmissions: col('Retransmissions(C)'), cpuPer1000: (t.cpuSeconds / REGISTER_COUNT) * 1000 };
}

function sipstormRegister(port: number, rate: number, dir: string): RegRow {
  const json = join(dir, 'reg.json');
  const t = timed([process.execPath, join(root, 'dist/cli/main.js'), 'run', join(root, 'bench/register-once.yaml'), '--target', `127.0.0.1:${port}`, '--rate', String(rate), '--total', String(REGISTER_COUNT), '--quiet', '--no-reports', '--json', json, '--i-know-what-i-am-doing'], dir);
  const result = JSON.parse(readFileSync(json, 'utf8'));
  return { tool: 'sipstorm', rate, count: REGISTER_COUNT, ok: result.totals.passed, failed: REGISTER_COUNT - result.totals.passed, retransmissions: result.scenarios[0].transport.retransmissionsSent, cpuPer1000: (t.cpuSeconds / REGISTER_COUNT) * 1000 };
}

async function registrarBench(): Promise<RegRow[]> {
  const { startKamailio } = await import('../test/support/kamailio.js');
  const k = await startKamailio();
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-bench-reg-'));
  const out: RegRow[] = [];
  try {
    for (const rate of REGISTER_RATES) {
      for (const run of [sippRegister, sipstormRegister]) {
        const row = run(k.port, rate, dir);
        out.push(row);
        console.log(`${row.tool.padEnd(9)} REGISTER ${String(rate).padStart(5)}/s against Kamailio: ${row.ok}/${row.count} ok, ${row.failed} failed, ${row.retransmissions} retransmissions, ${row.cpuPer1000.toFixed(3)} CPU s per 1,000 registrations`);
      }
    }
  } finally {
    await k.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-bench-'));
  // In the foreground (no -bg), so that it is ended by its own PID.
  const uas = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-nostdin'], { cwd: dir, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const rows: Row[] = [];
  const checks: Row[] = [];
  if (BASELINE) {
    try {
      const ba = beforeAfter(port, dir, BASELINE);
      writeFileSync(join(root, 'bench/before-after.json'), JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, node: process.version }, calls: CALLS, repeat: REPEAT, rows: ba }, null, 2) + '\n');
    } finally {
      uas.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  try {
    // sipstorm twice: its default (a worker per core) and one worker, the like-for-like match for SIPp's one thread.
    const one = (p: number, rate: number, d: string) => sipstormRun(p, rate, d, ['--workers', '1']);
    for (const rate of RATES) {
      for (const run of [sippRun, sipstormRun, one]) {
        const row = run(port, rate, dir);
        rows.push(row);
        console.log(`${row.tool.padEnd(22)} rate ${String(rate).padStart(5)}/s: ${row.ok}/${row.calls} ok, ${row.failed} failed, ${row.cpuSeconds.toFixed(2)} CPU s (${row.cpuPer1000.toFixed(3)} per 1,000 calls), ${row.wallSeconds.toFixed(1)} s wall`);
      }
    }
    if (CHECKS_RATE > 0) {
      // Alternate on/off so that drift in the machine's load hits both alike.
      for (let i = 0; i < 3; i++) {
        for (const extra of [[], ['--no-checks']]) {
          const row = sipstormRun(port, CHECKS_RATE, dir, extra);
          checks.push(row);
          console.log(`${row.tool.padEnd(22)} rate ${CHECKS_RATE}/s: ${row.ok}/${row.calls} ok, ${row.cpuPer1000.toFixed(3)} CPU s per 1,000 calls`);
        }
      }
    }
  } finally {
    uas.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  let checksCost: { rate: number; onPer1000: number; offPer1000: number; overhead: number } | undefined;
  if (checks.length) {
    const on = median(checks.filter((r) => r.tool === 'sipstorm').map((r) => r.cpuPer1000));
    const off = median(checks.filter((r) => r.tool !== 'sipstorm').map((r) => r.cpuPer1000));
    checksCost = { rate: CHECKS_RATE, onPer1000: on, offPer1000: off, overhead: on / off - 1 };
    console.log(`\nconformance checks at ${CHECKS_RATE}/s: ${on.toFixed(3)} CPU s per 1,000 calls on, ${off.toFixed(3)} off (medians of 3): ${(checksCost.overhead * 100).toFixed(1)}%`);
  }
  const best = (tool: string) => Math.max(0, ...rows.filter((r) => r.tool === tool && r.failed === 0).map((r) => r.rate));
  if (RATES.length) {
    console.log(`\n| rate/s | SIPp CPU s per 1,000 calls | sipstorm (2 workers) | ratio | sipstorm --workers 1 | ratio | failed SIPp / sipstorm / sipstorm -w1 |`);
    console.log(`|---:|---:|---:|---:|---:|---:|---:|`);
    for (const rate of RATES) {
      const a = rows.find((r) => r.tool === 'SIPp' && r.rate === rate)!;
      const b = rows.find((r) => r.tool === 'sipstorm' && r.rate === rate)!;
      const c = rows.find((r) => r.tool === 'sipstorm --workers 1' && r.rate === rate)!;
      console.log(`| ${rate} | ${a.cpuPer1000.toFixed(3)} | ${b.cpuPer1000.toFixed(3)} | ${(b.cpuPer1000 / a.cpuPer1000).toFixed(2)} | ${c.cpuPer1000.toFixed(3)} | ${(c.cpuPer1000 / a.cpuPer1000).toFixed(2)} | ${a.failed} / ${b.failed} / ${c.failed} |`);
    }
    console.log(`\nhighest rate with 0 failed of ${CALLS} calls: SIPp ${best('SIPp')}/s, sipstorm ${best('sipstorm')}/s (of the rates tried)`);
  }
  let registrar: RegRow[] = [];
  if (REGISTER_RATES.length) {
    registrar = await registrarBench();
    console.log(`\n| REGISTER/s against Kamailio | SIPp CPU s per 1,000 | sipstorm CPU s per 1,000 | ratio | SIPp failed / retrans | sipstorm failed / retrans |`);
    console.log(`|---:|---:|---:|---:|---:|---:|`);
    for (const rate of REGISTER_RATES) {
      const a = registrar.find((r) => r.tool === 'SIPp' && r.rate === rate)!;
      const b = registrar.find((r) => r.tool === 'sipstorm' && r.rate === rate)!;
      console.log(`| ${rate} | ${a.cpuPer1000.toFixed(3)} | ${b.cpuPer1000.toFixed(3)} | ${(b.cpuPer1000 / a.cpuPer1000).toFixed(2)} | ${a.failed} / ${a.retransmissions} | ${b.failed} / ${b.retransmissions} |`);
    }
  }
  // A partial run (only the table, or only the checks) keeps the other part of the last results.
  const file = join(root, 'bench/results.json');
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, calls: CALLS, rows: RATES.length ? rows : previous.rows, checks: checksCost ?? previous.checks, registrar: registrar.length ? registrar : previous.registrar }, null, 2) + '\n');
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(3);
});
