// Constant strings for the words a received message repeats (methods, the
// SIP version, default reason phrases), picked by comparing bytes: reading
// them off a scanned message (scan.ts, scanned-message.ts) makes no string.

import { REASONS } from './reasons.js';

/** Methods of RFC 3261 §7.1 and the extensions sipstorm speaks; any other is made from its bytes. */
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE'];

export const SIP_2_0 = 'SIP/2.0';

/** The bytes buf[s, e) as a string: a constant one when they spell a method. */
export function methodAt(buf: Buffer, s: number, e: number): string {
  for (let k = 0; k < METHODS.length; k++) if (bytesAre(buf, s, e, METHODS[k]!)) return METHODS[k]!;
  return latin1(buf, s, e);
}

/** The reason phrase buf[s, e) of a `status` response (UTF-8, RFC 3261 §25.1): the constant one when it is the default. */
export function reasonAt(buf: Buffer, s: number, e: number, status: number): string {
  if (s >= e) return '';
  const usual = REASONS[status];
  return usual !== undefined && bytesAre(buf, s, e, usual) ? usual : buf.toString('utf8', s, e);
}

/** The SIP-Version of a request line: the constant when it is SIP/2.0. */
export function versionAt(buf: Buffer, s: number, e: number): string {
  return bytesAre(buf, s, e, SIP_2_0) ? SIP_2_0 : latin1(buf, s, e);
}

/** buf[s, e) spells `word` (ASCII) exactly. */
export function bytesAre(buf: Buffer, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The bytes as a string (ASCII here): Buffer's own latin1Slice, without toString's argument checks. */
export function latin1(buf: Buffer, s: number, e: number): string {
  return (buf as Buffer & { latin1Slice(s: number, e: number): string }).latin1Slice(s, e);
}
