// Long parser fuzz run (npm run fuzz): FUZZ_SECONDS (default 600) of mutated
// messages; prints inputs per second and saves any input that throws anything
// but SipParseError to test/fixtures/fuzz-findings/ as a new fixture.

import { mkdirSync, writeFileSync } from 'node:fs';
import { fuzz } from '../test/support/fuzz.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? 600);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() & 0x7fffffff);
const r = fuzz({ seconds, seed });
console.log(`fuzz: ${r.inputs.toLocaleString('en-US')} inputs in ${r.seconds.toFixed(0)} s (${Math.round(r.inputs / r.seconds).toLocaleString('en-US')} inputs/s), seed ${seed}, ${r.findings.length} findings`);
if (r.findings.length) {
  const dir = new URL('../../test/fixtures/fuzz-findings/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  r.findings.forEach((f, i) => {
    writeFileSync(new URL(`finding-${seed}-${i}.dat`, dir), f.input);
    console.log(`  ${f.error}`);
  });
  process.exitCode = 1;
}
