// Media benchmark (npm run bench:media): sipstorm calls SIPp's built-in UAS
// with -rtp_echo on loopback, N calls at once, each streaming 10 s of G.711
// both ways (25,000 packets/s each way at 500 calls); sipstorm measures the
// loss itself. For each N it prints packets sent/received/lost, one-way
// calls, jitter p99, sipstorm's CPU per stream-second (all its threads, from
// the kernel's accounting) next to SIPp's (its whole process: SIP and the RTP
// echo of the same streams), and the highest N held clean (loss under 0.1%,
// no one-way call). Results go to bench/media-results.json. Not a test: run it
// on a quiet machine.
//
//   BENCH_MEDIA_CALLS=100,250,500,750 BENCH_MEDIA_WORKERS=2 npm run bench:media

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { timed } from './child-cpu.js';

const CALLS = (process.env.BENCH_MEDIA_CALLS ?? '100,250,500').split(',').filter(Boolean).map(Number);
const WORKERS = process.env.BENCH_MEDIA_WORKERS ?? '2';
const STREAM_S = 10;
const root = new URL('../../', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  const port = await new Promise<number>((r) => s.bind(0, '127.0.0.1', () => r(s.address().port)));
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** CPU seconds (user + system) of a live process, from /proc (clock ticks of 1/100 s). */
function procCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

interface Row {
  calls: number; streams: number; packetsSent: number; packetsReceived: number; packetsLost: number; lossPercent: number; oneWay: number;
  jitterP99Ms: number; mosP5: number; sipstormCpuSeconds: number; sipstormCpuMsPerStreamSecond: number; sippCpuSeconds: number; sippCpuMsPerStreamSecond: number; clean: boolean;
}

async function runOne(n: number, dir: string): Promise<Row> {
  const port = await freePort();
  const mediaPort = await freePort();
  const sipp = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-rtp_echo', '-nostdin', '-m', String(n), '-timeout', '120s'], { cwd: dir, stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const scenario = join(dir, `media-${n}.yaml`);
  const rate = Math.max(1, Math.ceil(n / 2));
  writeFileSync(scenario, [
    'name: bench-media', 'timeout: 60s', 'media:', '  codecs: [PCMU]', `  duration: ${STREAM_S}s`,
    `load: { model: open, rate: ${rate}, total: ${n} }`, 'steps:', '  - send: INVITE', "    to: 'sip:service@${target.host}:${target.port}'", '    expect: 200',
    '  - send: ACK', `  - pause: ${STREAM_S + 1}s`, '  - send: BYE', '    expect: 200', '',
  ].join('\n'));
  const out = join(dir, `out-${n}`);
  const t = timed(['node', join(root, 'dist/cli/main.js'), 'run', scenario, '--target', `127.0.0.1:${port}`, '--workers', WORKERS, '--out', out, '--quiet'], dir);
  const sippCpu = procCpu(sipp.pid!);
  sipp.kill('SIGKILL');
  const r = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  const m = r.media;
  const streamSeconds = m.packetsSent / 50;
  const lossPercent = m.packetsExpected ? (m.packetsLost / m.packetsExpected) * 100 : 100;
  return {
    calls: n, streams: m.streams, packetsSent: m.packetsSent, packetsReceived: m.packetsReceived, packetsLost: m.packetsLost, lossPercent: Number(lossPercent.toFixed(4)),
    oneWay: m.oneWay, jitterP99Ms: m.jitterMs.p99, mosP5: m.mos.p5,
    sipstormCpuSeconds: t.cpuSeconds, sipstormCpuMsPerStreamSecond: Number(((t.cpuSeconds * 1000) / streamSeconds).toFixed(3)),
    sippCpuSeconds: sippCpu, sippCpuMsPerStreamSecond: Number(((sippCpu * 1000) / streamSeconds).toFixed(3)),
    clean: lossPercent < 0.1 && m.oneWay === 0 && m.streams === n,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-media-'));
const rows: Row[] = [];
try {
  for (const n of CALLS) {
    const row = await runOne(n, dir);
    rows.push(row);
    console.log(`${n} calls: sent ${row.packetsSent}, received ${row.packetsReceived}, lost ${row.packetsLost} (${row.lossPercent}%), one-way ${row.oneWay}, jitter p99 ${row.jitterP99Ms} ms, MOS p5 ${row.mosP5}; CPU per stream-second: sipstorm ${row.sipstormCpuMsPerStreamSecond} ms, SIPp echo ${row.sippCpuMsPerStreamSecond} ms${row.clean ? '' : ' (not clean)'}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const clean = rows.filter((r) => r.clean).map((r) => r.calls);
console.log(`highest number of concurrent calls held clean (loss < 0.1%, no one-way): ${clean.length ? Math.max(...clean) : 'none'}`);
writeFileSync(join(root, 'bench/media-results.json'), JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, workers: Number(WORKERS), streamSeconds: STREAM_S, rows }, null, 2) + '\n');
