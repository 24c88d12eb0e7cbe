// The 30-second soak of the default suite (npm run soak runs calls for 10
// minutes and judges resident memory): steady load, every request passes, and
// the generator's live heap is flat after warm-up. 30 s cannot outlast an
// answered INVITE's 32 s Timer M, so it sends MESSAGEs, whose transactions
// live 5 s after their answer; and in 30 s RSS mostly shows V8 sizing its
// heap, so it is printed, while the live heap (the workers collect garbage
// before each figure, under --expose-gc) is what must not grow.

import t from 'tap';
import { soak } from '../support/soak.js';

t.test('30 s of MESSAGE at 200/s: the live heap stays flat', async (t) => {
  const r = await soak({ seconds: 30, warmupSeconds: 10, rate: 200, scenario: 'scenarios/message.yaml', liveHeap: true });
  t.equal(r.failed, 0, `${r.passed} requests passed`);
  t.ok(r.passed >= 5900, 'the load ran');
  const h = r.heap!;
  t.ok(h.warmMb > 0, 'the time series carries the heap');
  t.ok(Math.abs(h.growth) <= 0.1, `live heap ${h.warmMb} MB after warm-up, ${h.endMb} MB at the end (${(h.growth * 100).toFixed(1)}%); RSS ${(r.warmKb / 1024).toFixed(0)} -> ${(r.endKb / 1024).toFixed(0)} MB`);
});
