// The GSS-API Kerberos V5 mechanism's token framing as MS-SIPAE carries it
// in gssapi-data: the initial context token (RFC 2743 §3.1 framing around
// TOK_ID 01 00 and an AP-REQ, RFC 1964 §1.1 / RFC 4121 §4.1), and the
// per-message integrity token of RFC 4121 §4.2.6.1 (TOK_ID 04 04) that MS-SIPAE's
// signatures are, computed with the session key (key usage 25 for the
// initiator, 23 for the acceptor) and sent hex-encoded.

import { timingSafeEqual } from 'node:crypto';
import { checksum, type Key } from './crypto.js';
import { KerberosMessageError } from './der.js';

/** OID 1.2.840.113554.1.2.2, DER-encoded. */
const KRB5_OID = Buffer.from('06092a864886f712010202', 'hex');
const TOK_AP_REQ = Buffer.from([0x01, 0x00]);

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  while (n > 0) { bytes.unshift(n & 0xff); n >>>= 8; }
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function wrapInitialToken(apReq: Buffer): Buffer {
  const inner = Buffer.concat([KRB5_OID, TOK_AP_REQ, apReq]);
  return Buffer.concat([Buffer.from([0x60]), derLength(inner.length), inner]);
}

export function unwrapInitialToken(token: Buffer): Buffer {
  const bad = (why: string): never => { throw new KerberosMessageError('KRB_MALFORMED', `GSS-API token: ${why}`); };
  if (token.length < 2 || token[0] !== 0x60) bad('not an initial context token (0x60 expected)');
  let at = 1;
  let len = token[at++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 3 || at + n > token.length) bad('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | token[at++]!;
  }
  if (at + len !== token.length) bad('length does not match the token');
  if (!token.subarray(at, at + KRB5_OID.length).equals(KRB5_OID)) bad('not the Kerberos V5 mechanism');
  at += KRB5_OID.length;
  if (!token.subarray(at, at + 2).equals(TOK_AP_REQ)) bad('not an AP-REQ token');
  return token.subarray(at + 2);
}

const USAGE_ACCEPTOR_SIGN = 23;
const USAGE_INITIATOR_SIGN = 25;

/** RFC 4121 §4.2.6.1 MIC token: header (04 04, flags, FF*5, 64-bit sequence number) then the checksum over message + header. */
export function getMic(key: Key, side: 'initiator' | 'acceptor', seqNumber: number, message: Buffer): Buffer {
  const header = Buffer.alloc(16, 0xff);
  header[0] = 0x04; header[1] = 0x04;
  header[2] = side === 'acceptor' ? 0x01 : 0x00;
  header.writeUInt32BE(0, 8);
  header.writeUInt32BE(seqNumber >>> 0, 12);
  const sum = checksum(key, side === 'acceptor' ? USAGE_ACCEPTOR_SIGN : USAGE_INITIATOR_SIGN, Buffer.concat([message, header]));
  return Buffer.concat([header, sum]);
}

export function verifyMic(key: Key, side: 'initiator' | 'acceptor', message: Buffer, token: Buffer): { ok: boolean; seqNumber: number } {
  if (token.length !== 28 || token[0] !== 0x04 || token[1] !== 0x04) return { ok: false, seqNumber: -1 };
  const seqNumber = token.readUInt32BE(12);
  const expected = getMic(key, side, seqNumber, message);
  return { ok: timingSafeEqual(expected, token), seqNumber };
}
