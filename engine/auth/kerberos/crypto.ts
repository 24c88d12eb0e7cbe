// Kerberos encryption for the AES enctypes (RFC 3962 on the RFC 3961
// framework): aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18).
// n-fold (RFC 3961 §5.1), DK key derivation (§5.1), string-to-key with
// PBKDF2-HMAC-SHA1 (RFC 3962 §4), AES in CBC mode with ciphertext stealing
// (RFC 3962 §5), and the simplified profile's encrypt/decrypt and checksum
// (RFC 3961 §5.3). Node's crypto gives AES and HMAC; the rest is here.
// DES and RC4-HMAC enctypes are not offered: MIT's KDC no longer issues them
// by default, and Node's OpenSSL 3 refuses both.

import { createCipheriv, createDecipheriv, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SipstormError } from '../../errors.js';

export class KerberosCryptoError extends SipstormError {}

export const ENCTYPE_AES128 = 17;
export const ENCTYPE_AES256 = 18;
export const CKSUMTYPE_HMAC_SHA1_96_AES128 = 15;
export const CKSUMTYPE_HMAC_SHA1_96_AES256 = 16;

export interface Key {
  enctype: number;
  value: Buffer;
}

function keyLength(enctype: number): number {
  if (enctype === ENCTYPE_AES128) return 16;
  if (enctype === ENCTYPE_AES256) return 32;
  throw new KerberosCryptoError('KRB_ENCTYPE_UNSUPPORTED', `Kerberos enctype ${enctype} is not supported (sipstorm offers aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96)`);
}

export function checksumTypeOf(enctype: number): number {
  return enctype === ENCTYPE_AES256 ? CKSUMTYPE_HMAC_SHA1_96_AES256 : CKSUMTYPE_HMAC_SHA1_96_AES128;
}

/** RFC 3961 §5.1 n-fold: replicate the input rotated by 13 bits each time, add in ones' complement. */
export function nfold(input: Buffer, outBytes: number): Buffer {
  const inBytes = input.length;
  const lcm = (inBytes * outBytes) / gcd(inBytes, outBytes);
  const out = new Uint8Array(outBytes);
  let carry = 0;
  // Processed from the last byte of the lcm-long string backwards, as the reference does.
  for (let i = lcm - 1; i >= 0; i--) {
    const msbit = (((inBytes << 3) - 1) + (((inBytes << 3) + 13) * Math.floor(i / inBytes)) + ((inBytes - (i % inBytes)) << 3)) % (inBytes << 3);
    const hi = input[((inBytes - 1) - (msbit >>> 3)) % inBytes]!;
    const lo = input[(inBytes - (msbit >>> 3)) % inBytes]!;
    const byte = (((hi << 8) | lo) >>> ((msbit & 7) + 1)) & 0xff;
    carry += byte + out[i % outBytes]!;
    out[i % outBytes] = carry & 0xff;
    carry >>>= 8;
  }
  if (carry) {
    for (let i = outBytes - 1; i >= 0; i--) {
      carry += out[i]!;
      out[i] = carry & 0xff;
      carry >>>= 8;
    }
  }
  return Buffer.from(out);
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function aesName(key: Buffer, mode: 'cbc' | 'ecb'): string {
  return `aes-${key.length * 8}-${mode}`;
}

function aesBlock(key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(aesName(key, 'ecb'), key, null).setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** RFC 3962 §5: AES-CBC with ciphertext stealing (CS3: the last two blocks always swapped), IV all zero. */
export function ctsEncrypt(key: Buffer, plain: Buffer, iv: Buffer = Buffer.alloc(16)): Buffer {
  if (plain.length < 16) throw new KerberosCryptoError('KRB_CRYPTO', 'AES-CTS input shorter than one block');
  if (plain.length === 16) return aesBlock(key, Buffer.from(plain.map((b, i) => b ^ iv[i]!)));
  const blocks = Math.ceil(plain.length / 16);
  const padded = Buffer.alloc(blocks * 16);
  plain.copy(padded);
  const c = createCipheriv(aesName(key, 'cbc'), key, iv).setAutoPadding(false);
  const cbc = Buffer.concat([c.update(padded), c.final()]);
  const tail = plain.length - (blocks - 1) * 16;
  return Buffer.concat([cbc.subarray(0, (blocks - 2) * 16), cbc.subarray((blocks - 1) * 16), cbc.subarray((blocks - 2) * 16, (blocks - 2) * 16 + tail)]);
}

export function ctsDecrypt(key: Buffer, cipher: Buffer, iv: Buffer = Buffer.alloc(16)): Buffer {
  if (cipher.length < 16) throw new KerberosCryptoError('KRB_CRYPTO', 'AES-CTS ciphertext shorter than one block');
  const dec = (block: Buffer): Buffer => {
    const d = createDecipheriv(aesName(key, 'ecb'), key, null).setAutoPadding(false);
    return Buffer.concat([d.update(block), d.final()]);
  };
  if (cipher.length === 16) return Buffer.from(dec(cipher).map((b, i) => b ^ iv[i]!));
  const blocks = Math.ceil(cipher.length / 16);
  const tail = cipher.length - (blocks - 1) * 16;
  const out = Buffer.alloc(cipher.length);
  let prev = iv;
  for (let b = 0; b < blocks - 2; b++) {
    const cb = cipher.subarray(b * 16, b * 16 + 16);
    const p = dec(cb);
    for (let i = 0; i < 16; i++) out[b * 16 + i] = p[i]! ^ prev[i]!;
    prev = cb;
  }
  const cn = cipher.subarray((blocks - 2) * 16, (blocks - 1) * 16); // the original last full block
  const partial = cipher.subarray((blocks - 1) * 16);               // the stolen head of the one before it
  const d = dec(cn);
  const cPrev = Buffer.concat([partial, d.subarray(tail)]);
  for (let i = 0; i < tail; i++) out[(blocks - 1) * 16 + i] = d[i]! ^ partial[i]!;
  const p = dec(cPrev);
  for (let i = 0; i < 16; i++) out[(blocks - 2) * 16 + i] = p[i]! ^ prev[i]!;
  return out;
}

/** RFC 3961 §5.1 DR and DK (random-to-key is the identity for AES). */
export function deriveKey(base: Buffer, constant: Buffer): Buffer {
  const parts: Buffer[] = [];
  let block = constant.length === 16 ? constant : nfold(constant, 16);
  let have = 0;
  while (have < base.length) {
    block = aesBlock(base, block);
    parts.push(block);
    have += 16;
  }
  return Buffer.concat(parts).subarray(0, base.length);
}

/** RFC 3962 §4: tkey = PBKDF2-HMAC-SHA1(password, salt, iterations); key = DK(tkey, "kerberos"). Default 4096 iterations. */
export function stringToKey(enctype: number, password: string, salt: string | Buffer, iterations = 4096): Key {
  const tkey = pbkdf2Sync(Buffer.from(password, 'utf8'), typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt, iterations, keyLength(enctype), 'sha1');
  return { enctype, value: deriveKey(tkey, Buffer.from('kerberos', 'latin1')) };
}

/** stringToKey off the event loop (PBKDF2 in libuv's thread pool): a load worker logs thousands of UAs in. */
export function stringToKeyAsync(enctype: number, password: string, salt: string | Buffer, iterations = 4096): Promise<Key> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(password, 'utf8'), typeof salt === 'string' ? Buffer.from(salt, 'utf8') : salt, iterations, keyLength(enctype), 'sha1', (err, tkey) => {
      if (err) reject(new KerberosCryptoError('KRB_CRYPTO', `string-to-key: ${err.message}`));
      else resolve({ enctype, value: deriveKey(tkey, Buffer.from('kerberos', 'latin1')) });
    });
  });
}

function usageConstant(usage: number, kind: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(usage >>> 0);
  b[4] = kind;
  return b;
}

/** RFC 3961 §5.3 simplified profile: E(Ke, confounder + plaintext) + HMAC-SHA1(Ki, confounder + plaintext)[0..12]. */
export function encrypt(key: Key, usage: number, plaintext: Buffer, confounder: Buffer = randomBytes(16)): Buffer {
  keyLength(key.enctype);
  const ke = deriveKey(key.value, usageConstant(usage, 0xaa));
  const ki = deriveKey(key.value, usageConstant(usage, 0x55));
  const data = Buffer.concat([confounder, plaintext]);
  const mac = createHmac('sha1', ki).update(data).digest().subarray(0, 12);
  return Buffer.concat([ctsEncrypt(ke, data), mac]);
}

export function decrypt(key: Key, usage: number, ciphertext: Buffer): Buffer {
  keyLength(key.enctype);
  if (ciphertext.length < 16 + 12) throw new KerberosCryptoError('KRB_CRYPTO', 'Kerberos ciphertext too short');
  const ke = deriveKey(key.value, usageConstant(usage, 0xaa));
  const ki = deriveKey(key.value, usageConstant(usage, 0x55));
  const data = ctsDecrypt(ke, ciphertext.subarray(0, ciphertext.length - 12));
  const mac = createHmac('sha1', ki).update(data).digest().subarray(0, 12);
  if (!timingSafeEqual(mac, ciphertext.subarray(ciphertext.length - 12))) {
    throw new KerberosCryptoError('KRB_INTEGRITY', 'Kerberos integrity check failed (wrong key or password, or tampered data)');
  }
  return data.subarray(16);
}

/** RFC 3962 §7 checksum hmac-sha1-96-aes: HMAC-SHA1(DK(key, usage | 0x99), data)[0..12]. */
export function checksum(key: Key, usage: number, data: Buffer): Buffer {
  const kc = deriveKey(key.value, usageConstant(usage, 0x99));
  return createHmac('sha1', kc).update(data).digest().subarray(0, 12);
}
