// Low-level scanning shared by the header parsers: top-level comma splitting,
// quoted strings with escapes (RFC 3261 §25.1 quoted-string / quoted-pair),
// token checks and ;param=value lists.

import { SipParseError, type SipParseCode } from './errors.js';

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN_CHARS[ch.charCodeAt(0)] = 1;

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHARS[c] === 0) return false;
  }
  return true;
}

/** Splits a header value at commas that are outside quotes and <...>. */
export function splitTopLevel(value: string, sep = ','): string[] {
  return appendTopLevel(value, [], sep);
}

/**
 * splitTopLevel into `out`: each element trimmed, empty ones left out. An element is cut once, without the spaces
 * and tabs around it, and nothing is filtered or spread after: a list header read per response (an Allow an
 * expectation looks into) made a split array, a filtered copy and a spread, and two strings an element.
 */
export function appendTopLevel(value: string, out: string[], sep = ','): string[] {
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
    else if (ch === sep && depth === 0) {
      pushTrimmed(out, value, start, i);
      start = i + 1;
    }
  }
  pushTrimmed(out, value, start, value.length);
  return out;
}

/** value[start, end) trimmed, if anything is left: spaces and tabs skipped before cutting, any other white space by trim(). */
function pushTrimmed(out: string[], value: string, start: number, end: number): void {
  while (start < end && isSpaceOrTab(value.charCodeAt(start))) start++;
  while (end > start && isSpaceOrTab(value.charCodeAt(end - 1))) end--;
  if (start === end) return;
  const s = value.slice(start, end);
  // String#trim's white space is all at or below 32 or from 0xA0 up: a cut whose ends are neither is already trimmed.
  const t = mayBeSpace(s.charCodeAt(0)) || mayBeSpace(s.charCodeAt(s.length - 1)) ? s.trim() : s;
  if (t.length > 0) out.push(t);
}

function isSpaceOrTab(c: number): boolean {
  return c === 32 || c === 9;
}

function mayBeSpace(c: number): boolean {
  return c <= 32 || c >= 0xa0;
}

/** Reads a quoted string starting at value[pos] === '"'; returns its unescaped text and the index after it. */
export function readQuoted(value: string, pos: number, code: SipParseCode, what: string): { text: string; end: number } {
  let text = '';
  for (let i = pos + 1; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\') {
      if (i + 1 >= value.length) break;
      text += value[++i];
    } else if (ch === '"') return { text, end: i + 1 };
    else text += ch;
  }
  throw new SipParseError(code, `${what}: unterminated quoted string`);
}

/**
 * Parses ';name=value;flag' parameters. Values may be tokens, quoted strings or
 * host-like text (IPv6 references); a flag without value maps to null.
 */
export function parseParams(text: string, code: SipParseCode, what: string): Map<string, string | null> {
  const params = new Map<string, string | null>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    if (text[i] !== ';') throw new SipParseError(code, `${what}: expected ';' before parameter, found '${text.slice(i, i + 10)}'`);
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let j = i;
    while (j < n && text[j] !== '=' && text[j] !== ';' && text[j] !== ' ' && text[j] !== '\t') j++;
    const name = text.slice(i, j);
    if (!isToken(name)) throw new SipParseError(code, `${what}: bad parameter name '${name}'`);
    i = j;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (text[i] === '=') {
      i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === '"') {
        const q = readQuoted(text, i, code, what);
        params.set(name.toLowerCase(), q.text);
        i = q.end;
      } else {
        let k = i;
        while (k < n && text[k] !== ';' && text[k] !== ' ' && text[k] !== '\t') k++;
        const v = text.slice(i, k);
        if (v.length === 0) throw new SipParseError(code, `${what}: parameter '${name}' has an empty value`);
        params.set(name.toLowerCase(), v);
        i = k;
      }
    } else {
      params.set(name.toLowerCase(), null);
    }
  }
  return params;
}

export function formatParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) {
    if (v === null) out += `;${k}`;
    else out += isToken(v) || /^[\w.:\-[\]%!~*'+`]+$/.test(v) ? `;${k}=${v}` : `;${k}="${v.replace(/(["\\])/g, '\\$1')}"`;
  }
  return out;
}

/** Parses a non-negative decimal integer made only of digits; -1 if it is not one. */
export function parseDigits(s: string): number {
  if (s.length === 0 || s.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
