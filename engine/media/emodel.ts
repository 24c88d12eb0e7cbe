// The ITU-T G.107 E-model, simplified to what a receiver of a G.711 stream
// knows (the README's "E-model" section gives the formula):
//   R = 93.2 - Id - Ie,eff
//   93.2: R0 - Is with every G.107 default (no echo, quiet room, A = 0)
//   Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3), Ta the one-way delay in ms
//        (Cole & Rosenbluth's fit of G.107's Idd/Idte/Idle for echo-free paths),
//        Ta estimated as 20 ms packetization + 2 × jitter (a jitter buffer of twice the jitter) + the network delay given
//   Ie,eff = Ie + (95 - Ie) × Ppl / (Ppl / BurstR + Bpl)   (G.107 §3.6), G.711: Ie = 0, Bpl = 25.1 (with
//        packet loss concealment, G.113 Appendix I), BurstR = 1 (random loss)
//   MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6 for 0 < R < 100; 1 below, 4.5 above (G.107 Annex B).

export interface EModelInput {
  /** Lost packets / expected, 0..1. */
  loss: number;
  jitterMs: number;
  /** One-way network delay, if known (RTCP round trip / 2); 0 otherwise. */
  delayMs?: number;
}

const R_DEFAULT = 93.2;
const G711_IE = 0;
const G711_BPL = 25.1;

export function rFactor(x: EModelInput): number {
  const ta = 20 + 2 * x.jitterMs + (x.delayMs ?? 0);
  const id = 0.024 * ta + (ta > 177.3 ? 0.11 * (ta - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, x.loss * 100));
  const ieEff = G711_IE + ((95 - G711_IE) * ppl) / (ppl / 1 + G711_BPL);
  return R_DEFAULT - id - ieEff;
}

/** G.107 Annex B: R to the estimated MOS (conversational quality, CQE). */
export function mosOfR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

export function estimateMos(x: EModelInput): number {
  return mosOfR(rFactor(x));
}
