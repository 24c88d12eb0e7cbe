// The 30-second soak of the default suite (npm run soak runs 10 minutes):
// steady load, memory flat after warm-up, every call passes.

import t from 'tap';
import { soak } from '../support/soak.js';

t.test('30 s at 100 calls/s: flat memory', async (t) => {
  const r = await soak({ seconds: 30, warmupSeconds: 10, rate: 100 });
  t.equal(r.failed, 0, `${r.passed} calls passed`);
  t.ok(r.passed >= 2900, 'the load ran');
  t.ok(Math.abs(r.growth) <= 0.1, `RSS ${(r.warmKb / 1024).toFixed(1)} MB after warm-up, ${(r.endKb / 1024).toFixed(1)} MB at the end (${(r.growth * 100).toFixed(1)}%)`);
});
