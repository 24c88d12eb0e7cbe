// The timer wheel under a manual clock: order, cancellation, long timers
// crossing the coarse buckets, timers set from callbacks, and scale.

import t from 'tap';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';

t.test('fires in due order at the right time', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const fired: [string, number][] = [];
  for (const [name, delay] of [['c', 30], ['a', 10], ['b', 20], ['zero', 0]] as const) {
    wheel.schedule(delay, () => fired.push([name, wheel.now()]));
  }
  t.equal(wheel.size, 4);
  wheel.advance(15);
  t.same(fired, [['zero', 1], ['a', 10]], 'a zero delay fires on the next tick');
  wheel.advance(100);
  t.same(fired.map((f) => f[0]), ['zero', 'a', 'b', 'c']);
  t.same(fired.map((f) => f[1]), [1, 10, 20, 30]);
  t.equal(wheel.size, 0);
});

t.test('cancel', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  let fired = 0;
  const h = wheel.schedule(5, () => fired++);
  wheel.schedule(6, () => fired++);
  h.cancel();
  h.cancel();
  t.equal(wheel.size, 1, 'cancel twice counts once');
  wheel.advance(10);
  t.equal(fired, 1);
});

t.test('long timers (Timer B at 64*T1 = 32 s) cross the coarse buckets exactly', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(123.4) });
  const at: number[] = [];
  const start = wheel.now();
  for (const d of [32_000, 1_024, 1_023, 2_048, 5_000, 64_000]) wheel.schedule(d, () => at.push(wheel.now() - start));
  wheel.advance(70_000);
  const expected = [1_023, 1_024, 2_048, 5_000, 32_000, 64_000];
  t.equal(at.length, expected.length);
  at.forEach((v, i) => t.ok(v >= expected[i]! && v <= expected[i]! + 1, `fired at ${v.toFixed(1)} ms, due ${expected[i]}`));
});

t.test('a long timer due just below the end of a revolution fires (it waits for the next revolution)', async (t) => {
  // Due at 4095.49 ms fires on tick 4096, the first of revolution 4: keyed by its due time it sat in revolution 3's
  // bucket, went back there when that bucket was emptied, and was never seen again (a pause that never ended).
  const wheel = new TimerWheel({ clock: new ManualClock(1095.2) });
  const fired: number[] = [];
  for (const delay of [3000.29, 3000.8, 1928.8, 2952.8]) wheel.schedule(delay, () => fired.push(wheel.now()));
  wheel.advance(4000);
  t.same(fired, [3024, 4048, 4096, 4096], 'each on the first tick at or after its due time');
  t.equal(wheel.size, 0);
});

t.test('timers scheduled from a callback (retransmission doubling)', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const sends: number[] = [];
  let interval = 500;
  const fire = () => {
    sends.push(wheel.now());
    interval = Math.min(interval * 2, 4000);
    if (sends.length < 6) wheel.schedule(interval, fire);
  };
  wheel.schedule(interval, fire);
  wheel.advance(40_000);
  t.same(sends, [500, 1500, 3500, 7500, 11500, 15500]);
});

t.test('100,000 timers scheduled and most cancelled', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  let fired = 0;
  const handles = [];
  for (let i = 0; i < 100_000; i++) handles.push(wheel.schedule(500 + (i % 40_000), () => fired++));
  for (let i = 0; i < 100_000; i += 2) handles[i]!.cancel();
  t.equal(wheel.size, 50_000);
  wheel.advance(41_000);
  t.equal(fired, 50_000);
  t.equal(wheel.size, 0);
});

t.test('poll() fires what is due without waiting for the Node timer, and nothing early', async (t) => {
  const clock = new ManualClock(0);
  const wheel = new TimerWheel({ clock, tickMs: 0.25 });
  const fired: number[] = [];
  wheel.schedule(0.6, () => fired.push(clock.now()));
  wheel.schedule(1.1, () => fired.push(clock.now()));
  clock.set(0.7);
  wheel.poll();
  t.same(fired, [], 'due at 0.6, fires on the tick of 0.75, not before');
  clock.set(0.8);
  wheel.poll();
  t.same(fired, [0.8]);
  clock.set(1.2);
  wheel.poll();
  t.same(fired, [0.8], 'due at 1.1: its tick is 1.25');
  clock.set(1.3);
  wheel.poll();
  t.same(fired, [0.8, 1.3]);
  t.equal(wheel.size, 0);
});

t.test('a callback that throws leaves the other timers of its tick to fire on the next run', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const fired: string[] = [];
  wheel.schedule(5, () => fired.push('a'));
  wheel.schedule(5, () => {
    throw new Error('boom');
  });
  wheel.schedule(5, () => fired.push('c'));
  t.throws(() => wheel.advance(5), /boom/);
  t.same(fired, ['a']);
  wheel.advance(1);
  t.same(fired, ['a', 'c']);
  t.equal(wheel.size, 0);
});

t.test('a timer cancelled from a callback of the same tick does not fire', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const fired: string[] = [];
  let second: { cancel(): void } | undefined;
  wheel.schedule(3, () => {
    fired.push('first');
    second!.cancel();
  });
  second = wheel.schedule(3, () => fired.push('second'));
  wheel.schedule(3, () => fired.push('third'));
  wheel.advance(3);
  t.same(fired, ['first', 'third']);
  t.equal(wheel.size, 0);
});

t.test('scheduleFor calls the target with the kind it was given; cancel stops it', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(0) });
  const calls: [number, number][] = [];
  const target = { onTimer: (kind: number) => calls.push([kind, wheel.now()]) };
  wheel.scheduleFor(20, target, 1);
  wheel.scheduleFor(10, target, 0);
  wheel.scheduleFor(15, target, 2).cancel();
  t.equal(wheel.size, 2);
  wheel.advance(30);
  t.same(calls, [[0, 10], [1, 20]]);
  t.equal(wheel.size, 0);
});

t.test('real time: a 20 ms timer fires, and the wheel does not hold the process', async (t) => {
  const wheel = new TimerWheel();
  const start = performance.now();
  const keepAlive = setTimeout(() => {}, 1000); // the wheel's own timer is unref'd
  const late = await new Promise<number>((resolve) => wheel.schedule(20, () => resolve(performance.now() - start)));
  t.ok(late >= 19, `fired after ${late.toFixed(1)} ms`);
  clearTimeout(keepAlive);
  wheel.stop();
});
