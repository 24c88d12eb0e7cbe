// MIT keytab files (version 0x502), the way `kadmin ktadd` writes them: the
// service keys `sipstorm serve --auth kerberos --keytab FILE` decrypts
// tickets with. Format: 0x05 0x02, then entries each prefixed by a signed
// 32-bit size (negative: a hole to skip), holding the principal, a timestamp,
// the key version and the key block; a trailing 32-bit kvno overrides the
// 8-bit one when present.

import { SipstormError } from '../../errors.js';
import type { Key } from './crypto.js';

export class KeytabError extends SipstormError {
  /** A keytab is input the user gave: the CLI exits 2. */
  readonly exitCode = 2;
}

export interface KeytabEntry {
  realm: string;
  names: string[];
  kvno: number;
  key: Key;
}

export function parseKeytab(buf: Buffer, file = 'keytab'): KeytabEntry[] {
  const bad = (why: string): never => { throw new KeytabError('KEYTAB_MALFORMED', `${file}: ${why}`); };
  if (buf.length < 2 || buf[0] !== 5 || buf[1] !== 2) bad('not an MIT keytab (version 0x502 expected)');
  const out: KeytabEntry[] = [];
  let at = 2;
  while (at + 4 <= buf.length) {
    const size = buf.readInt32BE(at);
    at += 4;
    if (size < 0) { at += -size; continue; }
    if (size === 0) break;
    const end = at + size;
    if (end > buf.length) bad(`entry at byte ${at - 4} runs past the end of the file`);
    let p = at;
    const u16 = (): number => { if (p + 2 > end) bad(`entry at byte ${at - 4} is cut short`); const v = buf.readUInt16BE(p); p += 2; return v; };
    const u32 = (): number => { if (p + 4 > end) bad(`entry at byte ${at - 4} is cut short`); const v = buf.readUInt32BE(p); p += 4; return v; };
    const bytes = (): Buffer => { const n = u16(); if (p + n > end) bad(`entry at byte ${at - 4} is cut short`); const v = buf.subarray(p, p + n); p += n; return v; };
    const components = u16();
    const realm = bytes().toString('utf8');
    const names: string[] = [];
    for (let i = 0; i < components; i++) names.push(bytes().toString('utf8'));
    u32(); // name type
    u32(); // timestamp
    if (p + 1 > end) bad(`entry at byte ${at - 4} is cut short`);
    let kvno = buf[p++]!;
    const enctype = u16();
    const value = Buffer.from(bytes());
    if (end - p >= 4) kvno = buf.readUInt32BE(p);
    out.push({ realm, names, kvno, key: { enctype, value } });
    at = end;
  }
  return out;
}

/** The entries for one service principal (e.g. "sip/127.0.0.1"), newest key version first. */
export function keysFor(entries: KeytabEntry[], service: string, realm?: string): KeytabEntry[] {
  return entries
    .filter((e) => e.names.join('/') === service && (realm === undefined || e.realm === realm))
    .sort((a, b) => b.kvno - a.kvno);
}
