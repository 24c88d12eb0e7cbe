// RC4 (the stream cipher NTLM session security seals with, MS-NLMP §3.4).
// Node's OpenSSL 3 keeps RC4 in its legacy provider, which is not loaded by
// default, so the 256-byte state machine lives here: it is twenty lines, and
// a dependency for it would be larger than the code.

export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    const s = this.s;
    for (let n = 0; n < 256; n++) s[n] = n;
    for (let n = 0, j = 0; n < 256; n++) {
      j = (j + s[n]! + key[n % key.length]!) & 0xff;
      const t = s[n]!; s[n] = s[j]!; s[j] = t;
    }
  }

  /** Encrypts (or decrypts: the same operation) into a new Buffer; the key stream carries on from the last call. */
  update(data: Uint8Array): Buffer {
    const s = this.s;
    const out = Buffer.allocUnsafe(data.length);
    let i = this.i, j = this.j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      const t = s[i]!; s[i] = s[j]!; s[j] = t;
      out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.i = i; this.j = j;
    return out;
  }
}

/** One-shot RC4 with a fresh key (MS-NLMP's RC4K). */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  return new Rc4(key).update(data);
}
