// Open-model arrival times computed from the start (no drift), ramps, and
// the split of arrivals into parts whose union is the whole.

import t from 'tap';
import { ArrivalSchedule, ownsArrival, partOf, shareOf } from '../../engine/load/index.js';

t.test('constant rate: 10/s for 1 s gives arrivals at 0, 100, ..., 900 ms', async (t) => {
  const s = new ArrivalSchedule({ model: 'open', rate: 10, durationMs: 1000 });
  const times: number[] = [];
  for (let k = 0; ; k++) {
    const at = s.timeOf(k);
    if (at === undefined || at >= 1000) break;
    times.push(Math.round(at * 1000) / 1000);
  }
  t.same(times, [0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  t.equal(s.timeOf(1_000_000 - 1) === undefined || s.timeOf(1_000_000 - 1)! >= 1000, true);
});

t.test('ramp 0 -> 100/s over 10 s: 500 arrivals, closer together as the rate grows', async (t) => {
  const s = new ArrivalSchedule({ model: 'open', phases: [{ durationMs: 10_000, rate: 0, rampTo: 100 }] });
  let n = 0;
  while (s.timeOf(n) !== undefined && s.timeOf(n)! < 10_000) n++;
  t.equal(n, 500);
  const early = s.timeOf(2)! - s.timeOf(1)!;
  const late = s.timeOf(499)! - s.timeOf(498)!;
  t.ok(early > late * 5, `gaps shrink (${early.toFixed(1)} ms early, ${late.toFixed(1)} ms late)`);
  t.ok(Math.abs(s.timeOf(125)! - 5000) < 1, 'a quarter of the arrivals by half time');
});

t.test('parts: shards x workers own disjoint arrivals whose union is the whole', async (t) => {
  for (let shards = 1; shards <= 4; shards++) {
    for (let workers = 1; workers <= 3; workers++) {
      const seen = new Array(1000).fill(0);
      let shares = 0;
      for (let s = 0; s < shards; s++) {
        for (let w = 0; w < workers; w++) {
          const part = partOf({ index: s, count: shards }, w, workers);
          shares += shareOf(part, 1000);
          for (let k = 0; k < 1000; k++) if (ownsArrival(part, k)) seen[k]++;
        }
      }
      t.ok(seen.every((c) => c === 1), `${shards} shards x ${workers} workers: each arrival owned once`);
      t.equal(shares, 1000, 'shares add up to the whole');
    }
  }
});
