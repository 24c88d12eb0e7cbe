// SIP, SIPS and TEL URIs (RFC 3261 §19.1, RFC 3966) and other absolute URIs,
// kept opaque. Escaped characters stay as written: RFC 3261 §19.1.4 compares
// user parts after unescaping, but a harness must echo what it received, and
// RFC 4475 §3.1.1.4 warns that %00 must never truncate an address.

import { SipParseError } from './errors.js';
import { formatParams, parseDigits, parseParams } from './grammar.js';

export interface SipUri {
  scheme: string;
  user?: string;
  password?: string;
  /** Host as written; IPv6 references keep their brackets. Empty for tel: and opaque URIs. */
  host: string;
  port?: number;
  params: Map<string, string | null>;
  headers: Map<string, string>;
  /** For schemes other than sip/sips/tel: everything after 'scheme:'. */
  opaque?: string;
}

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const HOSTNAME_RE = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;
const IPV6_RE = /^\[[0-9A-Fa-f:.]+\]$/;
// RFC 3261 §25.1 user: unreserved / escaped / user-unreserved ("&" "=" "+" "$" "," ";" "?" "/")
const USER_RE = /^([A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD_RE = /^([A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;

export function parseUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': missing scheme`);
  const scheme = text.slice(0, colon).toLowerCase();
  if (!SCHEME_RE.test(scheme)) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad scheme`);
  const rest = text.slice(colon + 1);
  if (/[\s<>"]/.test(text)) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': contains whitespace, quotes or angle brackets`);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, rest, text);
  if (scheme === 'tel') {
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (number.length === 0) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': tel URI without a number`);
    return { scheme, user: number, host: '', params: semi < 0 ? new Map() : parseParams(rest.slice(semi), 'SIP_PARSE_URI', 'tel URI'), headers: new Map() };
  }
  if (rest.length === 0) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': empty after scheme`);
  return { scheme, host: '', params: new Map(), headers: new Map(), opaque: rest };
}

function parseSipUri(scheme: string, rest: string, text: string): SipUri {
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  const at = rest.indexOf('@');
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    const user = pc >= 0 ? userinfo.slice(0, pc) : userinfo;
    if (!USER_RE.test(user)) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad user part '${clip(user)}'`);
    uri.user = user;
    if (pc >= 0) {
      const password = userinfo.slice(pc + 1);
      if (!PASSWORD_RE.test(password)) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad password part`);
      uri.password = password;
    }
  }
  const q = hostPart.indexOf('?');
  let headersText = '';
  if (q >= 0) {
    headersText = hostPart.slice(q + 1);
    hostPart = hostPart.slice(0, q);
  }
  const semi = hostPart.indexOf(';');
  const hostport = semi >= 0 ? hostPart.slice(0, semi) : hostPart;
  if (semi >= 0) uri.params = parseParams(hostPart.slice(semi), 'SIP_PARSE_URI', `URI '${clip(text)}'`);
  let host = hostport;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': unterminated IPv6 reference`);
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after.length > 0) {
      if (after[0] !== ':') throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': junk after IPv6 reference`);
      portText = after.slice(1);
    }
    if (!IPV6_RE.test(host)) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad IPv6 reference`);
  } else {
    const pc = hostport.lastIndexOf(':');
    if (pc >= 0) {
      host = hostport.slice(0, pc);
      portText = hostport.slice(pc + 1);
    }
    if (!HOSTNAME_RE.test(host)) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad host '${clip(host)}'`);
  }
  uri.host = host;
  if (portText !== undefined) {
    const port = parseDigits(portText);
    if (port < 0 || port > 65535) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad port '${clip(portText)}'`);
    uri.port = port;
  }
  if (headersText) {
    for (const pair of headersText.split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new SipParseError('SIP_PARSE_URI', `URI '${clip(text)}': bad header '${clip(pair)}'`);
      uri.headers.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  return uri;
}

export function formatUri(u: SipUri): string {
  if (u.opaque !== undefined) return `${u.scheme}:${u.opaque}`;
  if (u.scheme === 'tel') return `tel:${u.user ?? ''}${formatParams(u.params)}`;
  let s = `${u.scheme}:`;
  if (u.user !== undefined) s += u.password !== undefined ? `${u.user}:${u.password}@` : `${u.user}@`;
  s += u.host;
  if (u.port !== undefined) s += `:${u.port}`;
  s += formatParams(u.params);
  if (u.headers.size > 0) s += '?' + [...u.headers].map(([k, v]) => `${k}=${v}`).join('&');
  return s;
}

/**
 * Host as SIP writes it: an IPv6 address in brackets (RFC 3261 §25.1, `host = hostname / IPv4address /
 * IPv6reference`, `IPv6reference = "[" IPv6address "]"`). Only an IPv6 address has a colon.
 */
export function hostText(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Host without IPv6 brackets, as sockets want it. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
