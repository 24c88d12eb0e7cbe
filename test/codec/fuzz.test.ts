// A fast bounded fuzz run of the parser (the long one is `npm run fuzz`):
// mutated torture messages may only ever fail with SipParseError.

import t from 'tap';
import { fuzz } from '../support/fuzz.js';

t.test('3 seconds of mutated messages: nothing but SipParseError', async (t) => {
  const r = fuzz({ seconds: 3, seed: Date.now() & 0xffff });
  t.ok(r.inputs > 10_000, `${r.inputs} inputs in ${r.seconds.toFixed(1)} s`);
  t.same(r.findings.map((f) => `${f.error} for ${JSON.stringify(f.input.toString('latin1').slice(0, 200))}`), [], 'no unexpected exception');
});
