// G.711 (ITU-T G.711, 1988): 16-bit linear PCM to mu-law (PCMU, RTP payload
// type 0) and A-law (PCMA, payload type 8), and back. Encoding goes through
// tables built once per thread (14-bit input for mu-law, 13-bit for A-law), so
// a 20 ms frame costs 160 lookups.

const BIAS = 0x84;
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(v: number, ends: number[]): number {
  for (let i = 0; i < 8; i++) if (v <= ends[i]!) return i;
  return 8;
}

/** G.711 mu-law of one 16-bit sample (sign-magnitude of 14 bits with a bias of 33, inverted). */
export function linearToUlaw(sample: number): number {
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > 8159) v = 8159;
  v += BIAS >> 2;
  const seg = segment(v, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

export function ulawToLinear(u: number): number {
  const v = ~u & 0xff;
  const t = (((v & 0x0f) << 3) + BIAS) << ((v & 0x70) >> 4);
  return v & 0x80 ? BIAS - t : t - BIAS;
}

/** G.711 A-law of one 16-bit sample (13 bits, sign-magnitude, even bits inverted: XOR 0x55). */
export function linearToAlaw(sample: number): number {
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segment(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((seg < 2 ? v >> 1 : v >> seg) & 0x0f)) ^ mask;
}

export function alawToLinear(a: number): number {
  const v = a ^ 0x55;
  const seg = (v & 0x70) >> 4;
  let t = (v & 0x0f) << 4;
  if (seg === 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return v & 0x80 ? t : -t;
}

let ulawTable: Uint8Array | undefined;
let alawTable: Uint8Array | undefined;

function tables(): { u: Uint8Array; a: Uint8Array } {
  if (!ulawTable || !alawTable) {
    ulawTable = new Uint8Array(1 << 14);
    for (let i = 0; i < 1 << 14; i++) ulawTable[i] = linearToUlaw(((i << 18) >> 16)); // sign-extended 14 bits, back to 16
    alawTable = new Uint8Array(1 << 13);
    for (let i = 0; i < 1 << 13; i++) alawTable[i] = linearToAlaw((i << 19) >> 16);
  }
  return { u: ulawTable, a: alawTable };
}

export type G711Codec = 'PCMU' | 'PCMA';

/** Encodes samples into out (one byte a sample), from out[offset]. */
export function encodeG711(codec: G711Codec, samples: Int16Array, out: Uint8Array, offset = 0): void {
  const t = tables();
  if (codec === 'PCMU') {
    const u = t.u;
    for (let i = 0; i < samples.length; i++) out[offset + i] = u[(samples[i]! >> 2) & 0x3fff]!;
  } else {
    const a = t.a;
    for (let i = 0; i < samples.length; i++) out[offset + i] = a[(samples[i]! >> 3) & 0x1fff]!;
  }
}

/** Decodes G.711 bytes to 16-bit samples. */
export function decodeG711(codec: G711Codec, data: Uint8Array): Int16Array {
  const out = new Int16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = codec === 'PCMU' ? ulawToLinear(data[i]!) : alawToLinear(data[i]!);
  return out;
}
