// The parts of a server's answer the suite runner reads where a case may have
// broken them on purpose (a CSeq or Via that does not parse reads as absent),
// and the one header a digest step adds to a templated request.

import { parseMessage, type SipMessage } from '../codec/index.js';
import { pickChallenge, type DigestChallenge } from '../auth/index.js';

export function cseqOf(msg: SipMessage): { seq: number; method: string } | undefined {
  try {
    return msg.cseq();
  } catch {
    return undefined;
  }
}

/** The top Via's branch; empty for a case that sends a broken Via on purpose. */
export function topBranch(msg: SipMessage): string {
  try {
    return msg.topBranch();
  } catch {
    return '';
  }
}

/** `1 INVITE`: what tells the answers to the requests of one case apart. */
export function cseqText(msg: SipMessage): string | undefined {
  const c = cseqOf(msg);
  return c ? `${c.seq} ${c.method}` : undefined;
}

/** The first challenge among `values` of that algorithm (the `MD5` and `SHA-256` auth modes). */
export function pickAlgorithm(values: string[], algorithm: 'MD5' | 'SHA-256'): DigestChallenge | undefined {
  for (const v of values) {
    const ch = pickChallenge([v]);
    if (ch?.algorithm === algorithm) return ch;
  }
  return undefined;
}

/** The message with one more header line at the end of its headers. */
export function withHeader(data: Buffer, name: string, value: string): { data: Buffer; msg?: SipMessage; cseq?: string } {
  const text = data.toString('latin1');
  const cut = text.indexOf('\r\n\r\n');
  const out = Buffer.from(`${text.slice(0, cut)}\r\n${name}: ${value}${text.slice(cut)}`, 'latin1');
  const msg = parseMessage(out);
  return { data: out, msg, cseq: cseqText(msg) };
}
