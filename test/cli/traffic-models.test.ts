// The traffic models end to end, through `sipstorm run`: Poisson arrivals as
// a server sees them (the gaps between the INVITEs it receives have a
// coefficient of variation near 1, evenly spaced ones near 0, measured between
// the INVITEs that came on time on this busy machine), the seed in
// the output and in result.json, a weighted mix of three bundled scenarios at
// one rate (each its share, one report, one verdict), and the flags' errors.

import t, { type Test } from 'tap';
import { performance } from 'node:perf_hooks';
import { ArrivalSchedule } from '../../engine/load/index.js';
import { runCli } from '../support/cli.js';
import { answer, ScriptedServer } from '../support/scripted-server.js';

/**
 * A server that answers every INVITE 486 and notes when the first copy of each arrived, by arrival number: the
 * scenario's users are as many as its arrivals, so arrival k is user k+1.
 */
async function busyServer(t: Test): Promise<{ server: ScriptedServer; times: Map<number, number> }> {
  const times = new Map<number, number>();
  const server = await ScriptedServer.start({
    onRequest(req) {
      if (req.msg.method !== 'INVITE') return;
      const k = Number(/sip:user(\d+)@/.exec(req.msg.get('From') ?? '')?.[1]) - 1;
      if (k >= 0 && !times.has(k)) times.set(k, performance.now());
      req.reply(answer(req.msg, 486, 'Busy Here', { toTag: 'busy' }));
    },
  });
  t.teardown(() => server.close());
  return { server, times };
}

/** Intended times (ms from the start) of arrivals 0..n-1 at 100/s. */
function schedule(n: number, arrivals: 'uniform' | 'poisson', seed = 0): number[] {
  const s = new ArrivalSchedule({ model: 'open', rate: 100, arrivals }, seed);
  return Array.from({ length: n }, (_, k) => s.timeOf(k)!);
}

/**
 * The coefficient of variation of the gaps between INVITEs as the server received them, between consecutive
 * arrivals that both came on time. A busy machine (a load average of 30 on 2 cores here) holds the generator
 * back at times and then sends what is due at once: one long gap and a few near zero, variation of the machine,
 * not of the arrivals. Such late INVITEs are told apart by the seeded schedule: how late each came (its receive
 * time less its intended time, less the smallest such difference: the start and the path) — only to leave them
 * out; the gaps measured are receive times. Returns the CV and how many gaps it is over.
 */
function onTimeGapCv(received: Map<number, number>, intended: number[], lateMs = 3): { cv: number; gaps: number; late: number } {
  const offsets = [...received].map(([k, r]) => r - intended[k]!).sort((a, b) => a - b);
  const base = offsets[Math.floor(offsets.length * 0.01)]!;
  const onTime = (k: number) => received.has(k) && received.get(k)! - intended[k]! - base <= lateMs;
  const gaps: number[] = [];
  for (let k = 0; k + 1 < intended.length; k++) if (onTime(k) && onTime(k + 1)) gaps.push(received.get(k + 1)! - received.get(k)!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1));
  return { cv: sd / mean, gaps: gaps.length, late: intended.filter((_, k) => !onTime(k)).length };
}

/** The CV of a schedule's own gaps. */
function cvOf(ts: number[]): number {
  const gaps = ts.slice(1).map((x, i) => x - ts[i]!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  return Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1)) / mean;
}

t.test('poisson at 100/s: the server sees INVITE gaps with a CV near 1; evenly spaced ones near 0 (2,000 each)', async (t) => {
  const poisson = await busyServer(t);
  const p = await runCli(['run', 'test/fixtures/scenarios/invite-busy.yaml', '--target', poisson.server.target('udp'), '--arrivals', 'poisson', '--seed', '18', '--total', '2000', '--workers', '2']);
  t.equal(p.status, 0, p.out);
  t.equal(p.result.totals.passed, 2000);
  t.equal(poisson.times.size, 2000, '2,000 INVITEs received');
  t.equal(p.result.settings.seed, 18, 'the seed is in result.json');
  t.match(p.stdout, /^seed 18 /m, 'and printed');
  const ps = onTimeGapCv(poisson.times, schedule(2000, 'poisson', 18));
  t.ok(ps.gaps >= 300, `${ps.gaps} gaps between on-time INVITEs (${ps.late} came more than 3 ms late)`);
  t.ok(ps.cv > 0.8 && ps.cv < 1.2, `poisson: CV ${ps.cv.toFixed(3)} as received (${cvOf(schedule(2000, 'poisson', 18)).toFixed(3)} in the schedule)`);

  const uniform = await busyServer(t);
  const u = await runCli(['run', 'test/fixtures/scenarios/invite-busy.yaml', '--target', uniform.server.target('udp'), '--total', '2000', '--workers', '2']);
  t.equal(u.status, 0, u.out);
  t.equal(uniform.times.size, 2000);
  t.equal(u.result.settings.seed, undefined, 'nothing random: no seed');
  const us = onTimeGapCv(uniform.times, schedule(2000, 'uniform'));
  t.ok(us.gaps >= 300, `${us.gaps} gaps between on-time INVITEs (${us.late} came more than 3 ms late)`);
  t.ok(us.cv < 0.3, `uniform: CV ${us.cv.toFixed(3)} as received`);
});

t.test('a mix of three bundled scenarios at one rate: each its share of arrivals, one report, one verdict', async (t) => {
  const r = await runCli([
    'run', 'scenarios/uac-call.yaml:70', 'scenarios/register-auth.yaml:20', 'scenarios/options.yaml:10',
    '--rate', '100', '--total', '600', '--arrivals', 'poisson', '--seed', '7', '--workers', '2',
  ]);
  t.equal(r.status, 0, r.out);
  const res = r.result;
  t.equal(res.scenarios.length, 1, 'one scenario result: the mix');
  t.same(res.settings.mix, [
    { file: 'scenarios/uac-call.yaml', weight: 70 }, { file: 'scenarios/register-auth.yaml', weight: 20 }, { file: 'scenarios/options.yaml', weight: 10 },
  ]);
  const roles = res.scenarios[0].roles as { role: string; started: number; passed: number }[];
  t.same(roles.map((x) => x.role), ['uac-call', 'register-auth', 'options'], 'a row of its own for each scenario');
  const started = roles.reduce((a, x) => a + x.started, 0);
  t.equal(started, 600);
  [0.7, 0.2, 0.1].forEach((share, i) => t.ok(Math.abs(roles[i]!.started / started - share) <= 0.02, `${roles[i]!.role}: ${roles[i]!.started} of ${started}`));
  t.equal(res.totals.passed, 600);
  t.equal(res.totals.verdict, 'passed');
  t.equal(r.stdout.match(/^(PASSED|FAILED)/gm)?.length, 1, 'one verdict line');
});

t.test('bad traffic flags: one line, exit 2, nothing sent', async (t) => {
  const cases: [string[], RegExp][] = [
    [['scenarios/options.yaml:70', 'scenarios/message.yaml'], /'scenarios\/message\.yaml' has none/],
    [['scenarios/options.yaml:70', 'scenarios/message.yaml:30', '--total', '10'], /a mix needs --rate/],
    [['scenarios/options.yaml:70', 'scenarios/message.yaml:30', '--rate', '10'], /a mix needs --total N or --duration/],
    [['scenarios/options.yaml', '--arrivals', 'bursty'], /--arrivals must be 'uniform' or 'poisson'/],
    [['scenarios/options.yaml', '--seed', '-1'], /--seed must be at least 0/],
    [['scenarios/options.yaml', '--erlangs', '5', '--rate', '3'], /give --erlangs or --rate, not both/],
    [['scenarios/options.yaml', '--erlangs', '5'], /options\.yaml:\d+:\d+: --erlangs: role 'main': 'erlangs' needs a mean hold time/],
    [['scenarios/options.yaml', '--arrivals', 'poisson', '--shard', '1/2'], /--shard with Poisson arrivals or random pauses needs --seed N/],
    [['scenarios/uac-call.yaml', '--erlangs', '1000'], /--erlangs 1000 at a mean hold of 0.1s is 10000.0\/s, above the safety ceiling of 5000\/s/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(['run', ...args, '--no-reports'], { outDir: false });
    t.equal(r.status, 2, args.join(' '));
    t.match(r.stderr, want);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

t.test('--erlangs: the rate follows from the mean hold time', async (t) => {
  // 5 erlangs at a mean hold of 100 ms (uac-call's pause): 50 calls a second.
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--erlangs', '5', '--total', '20', '--workers', '1']);
  t.equal(r.status, 0, r.out);
  t.equal(r.result.totals.passed, 20);
  t.equal(r.result.scenarios[0].roles[0].started, 20);
});
