// What a conformance case's step requires of an answer or of a request the
// server sent, beyond its code: headers present (per status), header values
// matching or not (patterns with ${...} filled in and escaped, on the
// linear-time matcher), then the captures for later steps. And the parts of
// a server's answer a case reads where it may have broken them on purpose (a
// CSeq or Via that does not parse reads as absent), and the one header a
// digest step adds to a request it sends.

import { pickChallenge, type DigestChallenge } from '../auth/index.js';
import { parseMessage, type SipMessage } from '../codec/index.js';
import { compileSafeRegex, escapeRegex, renderTemplate, type CaseChecks, type TemplateVars } from '../scenario/index.js';
import { judge } from './expect.js';

/** Why `msg` does not meet the checks, or undefined; each capture is handed to `keep` for later steps. */
export function caseProblem(checks: CaseChecks, msg: SipMessage, vars: TemplateVars, keep: (name: string, value: string) => void): string | undefined {
  const what = msg.isRequest ? `the ${msg.method}` : `the ${msg.status} answer`;
  for (const rule of checks.headers) {
    if (rule.when && judge(rule.when, msg.isRequest ? undefined : msg.status) !== undefined) continue;
    if (!rule.when && !msg.isRequest && msg.status < 200) continue;
    const missing = rule.names.filter((h) => msg.get(h) === undefined);
    if (missing.length) return `${what} has no ${missing.join(', ')} header`;
  }
  for (const m of checks.match) {
    const source = renderTemplate(m.template, vars, escapeRegex);
    const pattern = compileSafeRegex(source, true);
    // A value too long for the pattern (MAX_WORK) is judged on its start.
    const texts = msg.getAll(m.header).map((v) => v.slice(0, pattern.longestText));
    const hit = texts.some((v) => pattern.test(v));
    if (hit && m.absent) return `${what} has ${m.header} matching /${source}/: ${texts.join(', ')}`;
    if (!hit && !m.absent) return `${what} has no ${m.header} matching /${source}/${texts.length ? ` (it has: ${texts.join(', ')})` : ''}`;
  }
  for (const [name, spec] of checks.capture) {
    const value = captureValue(msg, spec);
    if (value === undefined) return `${what} has nothing to take for \${${name}} (${spec})`;
    keep(name, value);
  }
  return undefined;
}

/** `Header` (its first value), `Header;param` (a parameter of it) or `Header<uri>` (the URI between its angle brackets). */
function captureValue(msg: SipMessage, spec: string): string | undefined {
  const m = /^([\w-]+)(?:;([\w-]+)|<(uri)>)?$/.exec(spec.trim());
  if (!m) return undefined;
  const first = msg.get(m[1]!)?.trim();
  if (first === undefined) return undefined;
  if (m[2]) return new RegExp(`;\\s*${m[2]}\\s*=\\s*"?([^";,\\s>]+)`, 'i').exec(first)?.[1];
  if (m[3]) return /<([^>]*)>/.exec(first)?.[1] ?? first.split(';')[0];
  return first;
}

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

/** A case's message as sent: its bytes, and when they parse, the message and its `CSeq` text. */
export interface CaseMessage {
  data: Buffer;
  msg?: SipMessage;
  cseq?: string;
}

/** The message with one more header line at the end of its headers. */
export function withHeader(data: Buffer, name: string, value: string): CaseMessage {
  const text = data.toString('latin1');
  const cut = text.indexOf('\r\n\r\n');
  const out = Buffer.from(`${text.slice(0, cut)}\r\n${name}: ${value}${text.slice(cut)}`, 'latin1');
  const msg = parseMessage(out);
  return { data: out, msg, cseq: cseqText(msg) };
}

/** The message in `data`, or undefined when it does not parse (a torture message). */
export function parsedOrNot(data: Buffer): SipMessage | undefined {
  try {
    return parseMessage(data);
  } catch {
    return undefined;
  }
}
