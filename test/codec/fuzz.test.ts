// A fast bounded fuzz run of the parser (the long one is `npm run fuzz`):
// mutated torture messages may only ever fail with SipParseError. Bounded by a
// count of inputs, not by time, so that a seed replays exactly the same
// inputs on any machine: the seed is printed, and FUZZ_SEED=<seed> replays it.

import t from 'tap';
import { fuzz } from '../support/fuzz.js';

const INPUTS = 20_000;

t.test(`${INPUTS} mutated messages: nothing but SipParseError`, async (t) => {
  const given = process.env.FUZZ_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) : Date.now() & 0x7fffffff;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`FUZZ_SEED must be a non-negative integer, got '${given}'`);
  t.comment(`fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npx tap dist/test/codec/fuzz.test.js)`);
  const r = fuzz({ maxInputs: INPUTS, seconds: Infinity, seed });
  t.equal(r.inputs, INPUTS, `${r.inputs} inputs in ${r.seconds.toFixed(1)} s, seed ${seed}`);
  t.same(r.findings.map((f) => `${f.error} for ${JSON.stringify(f.input.toString('latin1').slice(0, 200))}`), [], `no unexpected exception (seed ${seed})`);
});
