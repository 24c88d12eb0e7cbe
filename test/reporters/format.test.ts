// The generator's line in the console and HTML summaries: what share of
// arrivals started on time (never rounded up to 100%), lag, busy workers, and
// the warning when the generator was the bottleneck.

import t from 'tap';
import { generatorLine } from '../../reporters/format.js';

const health = {
  lagP99Ms: 6.9, lagMaxMs: 30, cpuMs: 0, sendLateP99Ms: 6.8, sendLateMaxMs: 28, sendsOnTimeShare: 0.9201, heapUsedMb: 60,
  workers: [{ worker: 0, busy: 0.183 }, { worker: 1, busy: 0.2 }], generatorBound: false,
};

t.test('says how many arrivals started on time, the lag and how busy each worker was', async (t) => {
  t.equal(generatorLine(health), 'generator: 92% of starts within 1 ms of their intended time (late p99 6.80ms), event-loop lag p99 6.90ms, workers busy #0 18%, #1 20%');
});

t.test('a share just short of all is not rounded up to 100%', async (t) => {
  t.match(generatorLine({ ...health, sendsOnTimeShare: 0.99962 }), /: 99\.9% of starts/);
  t.match(generatorLine({ ...health, sendsOnTimeShare: 1 }), /: 100% of starts/);
  t.match(generatorLine({ ...health, sendsOnTimeShare: 0.6567 }), /: 65\.6% of starts/);
});

t.test('an overloaded generator says its latencies include its own delay', async (t) => {
  t.match(generatorLine({ ...health, generatorBound: true }), /; generator overloaded: latencies include our own delay$/);
});

t.test('a worker that warmed up says so, with what it played and how long it took', async (t) => {
  const warmed = { ...health, workers: [{ worker: 0, busy: 0.4, warmUp: { instances: 5000, passed: 4990, ms: 512 } }, { worker: 1, busy: 0.2 }] };
  t.match(generatorLine(warmed), /workers busy #0 40%, #1 20%, warm-up on loopback before the start #0 5,000 instances in 512 ms$/);
});
