// Pauses drawn from a distribution, on a manual clock: each instance draws
// from its own stream (the run's seed, its role, its arrival number), so the
// same seed gives every arrival the same pause whatever the order instances
// start in and whatever the others drew, and another seed other pauses.

import t from 'tap';
import { createResponse } from '../../engine/codec/index.js';
import { Random, sample, streamSeed, STREAM_INSTANCE } from '../../engine/random/index.js';
import { compileScenarioText } from '../../engine/scenario/index.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';
import type { Endpoint } from '../../engine/transport/index.js';
import { WorkerRuntime } from '../../engine/ua/index.js';
import { MemoryLink } from '../support/memory-transport.js';

const peer: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 5060 };
const YAML = 'steps:\n  - pause: { distribution: lognormal, mean: 1s, stddev: 300ms }\n  - send: OPTIONS\n    expect: 200\n';

/** How long each of arrivals 0..n-1 lasted (its pause, on the manual clock), started in the given order. */
async function durations(seed: number, order: number[]): Promise<number[]> {
  const scenario = compileScenarioText(YAML, 'inline.yaml');
  scenario.seed = seed;
  const wheel = new TimerWheel({ clock: new ManualClock(1000) });
  const link = new MemoryLink(peer, (msg) => (msg.isRequest && msg.method === 'OPTIONS' ? [createResponse(msg, 200)] : undefined));
  const rt = await WorkerRuntime.create(
    { scenario, target: peer, targetHostText: '127.0.0.1', targetUri: 'sip:127.0.0.1', localHost: '127.0.0.1', checks: false, openTransport: link.open },
    wheel,
  );
  const out: number[] = new Array(order.length).fill(-1);
  for (const arrival of order) {
    rt.startInstance(0, 1 + arrival, wheel.now(), (o) => (out[arrival] = o.passed ? o.durationMs : -2), arrival);
  }
  link.pump();
  for (let ms = 0; ms < 10_000 && out.includes(-1); ms++) {
    wheel.advance(1);
    link.pump();
  }
  await rt.close();
  return out;
}

t.test('the same seed: every arrival the same pause, in any start order; another seed: others', async (t) => {
  const a = await durations(5, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.ok(a.every((d) => d > 0), `all passed after their pause: ${a.join(', ')} ms`);
  t.same(await durations(5, [7, 6, 5, 4, 3, 2, 1, 0]), a, 'started in reverse: the same pause for each arrival');
  t.same((await durations(5, [3, 5])).filter((d) => d !== -1), [a[3], a[5]], 'arrivals 3 and 5 alone: the same pauses');
  const b = await durations(6, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.not(b.join(), a.join(), 'another seed, other pauses');
  const expected = a.map((_, k) => sample({ type: 'lognormal', mean: 1000, stddev: 300 }, new Random(streamSeed(5, STREAM_INSTANCE, 0, k))));
  t.ok(a.every((d, k) => Math.abs(d - expected[k]!) <= 1), 'each is its stream\'s first draw, to the timer\'s millisecond');
});
