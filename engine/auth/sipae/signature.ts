// What [MS-SIPAE] signs, and the header parameters it travels in. A signed
// message's buffer is the following values, each enclosed in angle brackets
// "with the same syntax and case ... as they appear in the message"
// (§3.2.5.2, §3.3.5.2): the authentication protocol, crand or srand, cnum or
// snum, realm, targetname, Call-ID, CSeq number, CSeq method, From URI, From
// tag, To tag, Expires (when the message has one) and, for a response, its
// status code.

import type { SipMessage } from '../../codec/index.js';
import { parseAuthParams } from '../digest.js';

export type SipaeScheme = 'NTLM' | 'Kerberos';

export interface SipaeParams {
  scheme: SipaeScheme;
  params: Map<string, string>;
}

/** The NTLM or Kerberos values among a message's authentication headers (others are not ours). */
export function sipaeValues(values: string[]): SipaeParams[] {
  const out: SipaeParams[] = [];
  for (const v of values) {
    let parsed;
    try { parsed = parseAuthParams(v); } catch { continue; }
    const s = parsed.scheme.toLowerCase();
    if (s === 'ntlm') out.push({ scheme: 'NTLM', params: parsed.params });
    else if (s === 'kerberos') out.push({ scheme: 'Kerberos', params: parsed.params });
  }
  return out;
}

const quote = (v: string): string => `"${v.replace(/(["\\])/g, '\\$1')}"`;

/** `Scheme name="value", ...`; version is the one unquoted parameter (as in the spec's examples). */
export function formatSipae(scheme: SipaeScheme, params: Array<[string, string | number]>): string {
  return `${scheme} ${params.map(([k, v]) => (typeof v === 'number' ? `${k}=${v}` : `${k}=${quote(v)}`)).join(', ')}`;
}

export function signatureBuffer(msg: SipMessage, scheme: SipaeScheme, rand: string, num: number, realm: string, targetname: string): Buffer {
  const cseq = msg.cseq();
  const from = msg.from();
  const to = msg.to();
  const parts = [scheme, rand, String(num), realm, targetname, msg.callId(), String(cseq.seq), cseq.method, from.uri, from.tag ?? '', to.tag ?? ''];
  const expires = msg.get('Expires');
  if (expires !== undefined) parts.push(expires.trim());
  if (!msg.isRequest) parts.push(String(msg.status));
  return Buffer.from(parts.map((p) => `<${p}>`).join(''), 'utf8');
}
