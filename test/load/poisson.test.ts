// Poisson arrivals at the schedule level: exponential gaps (coefficient of
// variation near 1) at the set mean rate, ramps followed, the same seed giving
// the same schedule, and parts (workers x shards) that together make exactly
// the whole process for any number of parts. And the shares of a mix.

import t from 'tap';
import { ArrivalSchedule, ownsArrival, partOf } from '../../engine/load/index.js';
import { mixScenarios, compileScenarioText, splitByWeight } from '../../engine/scenario/index.js';

function times(s: ArrivalSchedule, until: number): number[] {
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const at = s.timeOf(k);
    if (at === undefined || at >= until) return out;
    out.push(at);
  }
}

function cv(ts: number[]): number {
  const gaps = ts.slice(1).map((x, i) => x - ts[i]!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((a, b) => a + (b - mean) ** 2, 0) / (gaps.length - 1));
  return sd / mean;
}

t.test('poisson at 100/s: about 100 arrivals a second, gaps with a coefficient of variation of 1', async (t) => {
  const ts = times(new ArrivalSchedule({ model: 'open', rate: 100, arrivals: 'poisson' }, 12345), 1_000_000);
  t.ok(Math.abs(ts.length - 100_000) < 1500, `${ts.length} arrivals in 1000 s`);
  const c = cv(ts);
  t.ok(Math.abs(c - 1) < 0.02, `CV ${c.toFixed(3)}`);
  t.equal(cv(times(new ArrivalSchedule({ model: 'open', rate: 100 }), 100_000)) < 1e-6, true, 'uniform: CV 0');
});

t.test('the same seed gives the same schedule; another seed or stream another one', async (t) => {
  const load = { model: 'open' as const, rate: 50, arrivals: 'poisson' as const, durationMs: 10_000 };
  const a = times(new ArrivalSchedule(load, 7), 10_000);
  t.same(times(new ArrivalSchedule(load, 7), 10_000), a);
  t.not(times(new ArrivalSchedule(load, 8), 10_000).join(), a.join());
  t.not(times(new ArrivalSchedule({ ...load, stream: 1 }, 7), 10_000).join(), a.join());
});

t.test('a poisson ramp 0 -> 100/s over 100 s follows the rate: a quarter of its arrivals in the first half', async (t) => {
  const ts = times(new ArrivalSchedule({ model: 'open', arrivals: 'poisson', phases: [{ durationMs: 100_000, rate: 0, rampTo: 100 }] }, 3), 100_000);
  t.ok(Math.abs(ts.length - 5000) < 250, `${ts.length} arrivals (5000 expected)`);
  const firstHalf = ts.filter((x) => x < 50_000).length / ts.length;
  t.ok(Math.abs(firstHalf - 0.25) < 0.02, `${(firstHalf * 100).toFixed(1)}% in the first half`);
});

t.test('parts: each worker keeps its stripe of one whole schedule, the same for any number of parts', async (t) => {
  const load = { model: 'open' as const, rate: 200, arrivals: 'poisson' as const };
  const whole = times(new ArrivalSchedule(load, 99), 20_000);
  for (const [shards, workers] of [[1, 2], [2, 3], [3, 1]] as const) {
    const union: number[] = [];
    let foreign = 0;
    for (let s = 0; s < shards; s++) {
      for (let w = 0; w < workers; w++) {
        const part = partOf({ index: s, count: shards }, w, workers);
        const sched = new ArrivalSchedule(load, 99);
        // As the runner asks: k = part.index, part.index + parts, ...
        for (let k = part.index; ; k += part.count) {
          if (!ownsArrival(part, k)) foreign++;
          const at = sched.timeOf(k);
          if (at === undefined || at >= 20_000) break;
          union.push(at);
        }
      }
    }
    union.sort((a, b) => a - b);
    t.equal(foreign, 0, 'each part asked only its own arrivals');
    t.same(union, whole, `${shards} shard(s) x ${workers} worker(s): the whole process`);
  }
});

t.test('a mix: rates by weight; poisson streams of its roles give each its share within 2%', async (t) => {
  const one = (name: string) => compileScenarioText(`name: ${name}\nsteps:\n  - send: OPTIONS\n`, `${name}.yaml`);
  const mix = mixScenarios([{ scenario: one('calls'), weight: 70 }, { scenario: one('regs'), weight: 20 }, { scenario: one('presence'), weight: 10 }], 100);
  t.same(mix.roles.map((r) => [r.name, r.load.rate, r.load.stream]), [['calls', 70, 0], ['regs', 20, 1], ['presence', 10, 2]], 'a stream of its own for each file');
  const counts = mix.roles.map((r, i) => times(new ArrivalSchedule({ ...r.load, arrivals: 'poisson' }, 2026), 200_000).length);
  const all = counts.reduce((a, b) => a + b, 0);
  t.ok(Math.abs(all - 20_000) < 600, `${all} arrivals in 200 s at 100/s`);
  [0.7, 0.2, 0.1].forEach((share, i) => t.ok(Math.abs(counts[i]! / all - share) < 0.02, `${mix.roles[i]!.name}: ${((counts[i]! / all) * 100).toFixed(2)}%`));
  t.same(splitByWeight(1000, [70, 20, 10]), [700, 200, 100]);
  t.same(splitByWeight(10, [1, 1, 1]), [4, 3, 3], 'remainders to the first of equal fractions; adds up to the total');
  const total = mixScenarios([{ scenario: one('a'), weight: 1 }, { scenario: one('a'), weight: 2 }], 30, 100);
  t.same(total.roles.map((r) => [r.name, r.load.total, r.load.rate]), [['a', 33, 10], ['a#2', 67, 20]], 'a --total split by weight; a file named twice gets a second name');
});
