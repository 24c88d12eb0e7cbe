// G.711 against the values of the ITU-T reference (and the Sun reference code
// every implementation copies): the codes of silence, the extremes, and a
// round trip within the quantization step of each segment.

import t from 'tap';
import { alawToLinear, decodeG711, encodeG711, linearToAlaw, linearToUlaw, ulawToLinear } from '../../engine/media/index.js';

t.test('mu-law known values', async (t) => {
  t.equal(linearToUlaw(0), 0xff, 'silence is 0xFF');
  t.equal(linearToUlaw(32767), 0x80, 'positive full scale 0x80');
  t.equal(linearToUlaw(-32768), 0x00, 'negative full scale 0x00');
  t.equal(ulawToLinear(0x00), -32124);
  t.equal(ulawToLinear(0x80), 32124);
  t.equal(ulawToLinear(0xff), 0);
  t.equal(linearToUlaw(1000), 0xce);
  t.equal(ulawToLinear(0xce), 988);
});

t.test('A-law known values', async (t) => {
  t.equal(linearToAlaw(0), 0xd5, 'silence is 0xD5');
  t.equal(linearToAlaw(-8), 0x55);
  t.equal(alawToLinear(0xd5), 8);
  t.equal(alawToLinear(0x55), -8);
  t.equal(linearToAlaw(32767), 0xaa, 'positive full scale 0xAA');
  t.equal(linearToAlaw(-32768), 0x2a, 'negative full scale 0x2A');
  t.equal(alawToLinear(0xaa), 32256);
  t.equal(alawToLinear(0x2a), -32256);
});

t.test('the encode tables give what the reference functions give, and decoding comes back within a step', async (t) => {
  const samples = new Int16Array(65536);
  for (let i = 0; i < 65536; i++) samples[i] = i - 32768;
  for (const codec of ['PCMU', 'PCMA'] as const) {
    const out = new Uint8Array(samples.length);
    encodeG711(codec, samples, out);
    let mismatches = 0;
    let worst = 0;
    let smallOff = 0;
    const back = decodeG711(codec, out);
    for (let i = 0; i < samples.length; i++) {
      const ref = codec === 'PCMU' ? linearToUlaw(samples[i]!) : linearToAlaw(samples[i]!);
      if (ref !== out[i]) mismatches++;
      // Logarithmic quantization: within a few percent of the value above the linear segments, below clipping.
      const x = Math.abs(samples[i]!);
      if (x >= 256 && x <= 32000) worst = Math.max(worst, Math.abs(back[i]! - samples[i]!) / x);
      else if (x < 256 && Math.abs(back[i]! - samples[i]!) > 16) smallOff++;
    }
    t.equal(mismatches, 0, `${codec}: table = reference for all 65536 inputs`);
    t.equal(smallOff, 0, `${codec}: small values come back within 16`);
    t.ok(worst < 0.07, `${codec}: relative error ${worst.toFixed(3)} under 7%`);
  }
});
