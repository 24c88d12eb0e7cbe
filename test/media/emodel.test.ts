// The E-model at known points: G.107's default R (93.2) and its MOS (4.41),
// the Annex B mapping at R = 50 and 80, and the loss and delay terms of the
// simplified formula (README, "E-model").

import t from 'tap';
import { estimateMos, mosOfR, rFactor } from '../../engine/media/index.js';

t.test('R to MOS (G.107 Annex B)', async (t) => {
  t.equal(mosOfR(93.2).toFixed(2), '4.41', 'the default R: MOS 4.41');
  t.equal(mosOfR(50).toFixed(3), '2.575');
  t.equal(mosOfR(80).toFixed(3), '4.024');
  t.equal(mosOfR(-5), 1);
  t.equal(mosOfR(120), 4.5);
});

t.test('loss and jitter terms', async (t) => {
  // No loss, no jitter: only the 20 ms of packetization as delay, Id = 0.48.
  t.equal(rFactor({ loss: 0, jitterMs: 0 }).toFixed(2), '92.72');
  // 1% random loss, G.711 with PLC (Bpl 25.1): Ie,eff = 95 × 1 / 26.1 = 3.64.
  t.equal(rFactor({ loss: 0.01, jitterMs: 0 }).toFixed(2), (92.72 - 95 / 26.1).toFixed(2));
  // 200 ms of delay goes past the knee at 177.3 ms.
  const ta = 20 + 200;
  t.equal(rFactor({ loss: 0, jitterMs: 0, delayMs: 200 }).toFixed(3), (93.2 - 0.024 * ta - 0.11 * (ta - 177.3)).toFixed(3));
  t.ok(estimateMos({ loss: 0, jitterMs: 1 }) > 4.3, 'a clean call is above 4.3');
  t.equal(estimateMos({ loss: 0.05, jitterMs: 20 }).toFixed(2), mosOfR(93.2 - 0.024 * 60 - (95 * 5) / (5 + 25.1)).toFixed(2), '5% loss and 20 ms jitter: R 75.98');
});
