// Structured header values: Via (RFC 3261 §20.42), CSeq (§20.16), and the
// name-addr / addr-spec forms of From, To, Contact, Route, Record-Route
// (§20.10, §25.1). Parsed on demand; the hot path reads only what it needs.

import { SipParseError } from './errors.js';
import { formatParams, isToken, parseDigits, parseParams, readQuoted } from './grammar.js';
import { parseUri, type SipUri } from './uri.js';

export interface Via {
  /** 'SIP/2.0/UDP' normalised (no inner whitespace, transport upper case). */
  protocol: string;
  transport: string;
  host: string;
  port?: number;
  branch?: string;
  params: Map<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

export interface NameAddr {
  display?: string;
  /** The URI text as written. */
  uri: string;
  params: Map<string, string | null>;
  tag?: string;
  /** True when the URI was inside <>. */
  bracketed: boolean;
}

const VIA_RE = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([A-Za-z0-9.!%*_+`'~-]+)[ \t]+(.*)$/i;

export function parseVia(value: string): Via {
  const m = VIA_RE.exec(value.trim());
  if (!m) throw new SipParseError('SIP_PARSE_VIA', `Via '${clip(value)}': expected 'SIP/2.0/<transport> <host>'`);
  const transport = m[1]!.toUpperCase();
  const rest = m[2]!;
  const semi = rest.indexOf(';');
  const sentBy = (semi >= 0 ? rest.slice(0, semi) : rest).trim();
  const params = semi >= 0 ? parseParams(rest.slice(semi), 'SIP_PARSE_VIA', 'Via') : new Map<string, string | null>();
  let host = sentBy;
  let port: number | undefined;
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    if (close < 0) throw new SipParseError('SIP_PARSE_VIA', `Via '${clip(value)}': unterminated IPv6 reference`);
    host = sentBy.slice(0, close + 1);
    const after = sentBy.slice(close + 1).trim();
    if (after) port = viaPort(after.replace(/^:\s*/, ''), value);
  } else {
    const c = sentBy.indexOf(':');
    if (c >= 0) {
      host = sentBy.slice(0, c).trim();
      port = viaPort(sentBy.slice(c + 1).trim(), value);
    }
  }
  if (!/^[A-Za-z0-9.\-[\]:]+$/.test(host)) throw new SipParseError('SIP_PARSE_VIA', `Via '${clip(value)}': bad sent-by host '${clip(host)}'`);
  const branch = params.get('branch');
  return { protocol: `SIP/2.0/${transport}`, transport, host, port, branch: branch ?? undefined, params };
}

function viaPort(text: string, value: string): number {
  const p = parseDigits(text);
  if (p < 0 || p > 65535) throw new SipParseError('SIP_PARSE_VIA', `Via '${clip(value)}': bad port '${clip(text)}'`);
  return p;
}

export function formatVia(v: Via): string {
  return `${v.protocol} ${v.host}${v.port !== undefined ? `:${v.port}` : ''}${formatParams(v.params)}`;
}

export function parseCSeq(value: string): CSeq {
  // The usual form, '1 INVITE', without the regular expression (every response is matched by its CSeq method).
  const sp = value.indexOf(' ');
  if (sp > 0 && value.indexOf(' ', sp + 1) < 0 && value.indexOf('\t') < 0) {
    const seq = parseDigits(value.slice(0, sp));
    const method = value.slice(sp + 1);
    if (seq >= 0 && seq < 2 ** 31 && isToken(method)) return { seq, method };
  }
  const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(value);
  if (!m) throw new SipParseError('SIP_PARSE_CSEQ', `CSeq '${clip(value)}': expected '<number> <method>'`);
  const seq = parseDigits(m[1]!);
  // RFC 3261 §8.1.1.5: the sequence number MUST be expressible as a 32-bit unsigned integer and less than 2**31.
  if (seq < 0 || seq >= 2 ** 31) throw new SipParseError('SIP_PARSE_RANGE', `CSeq: ${m[1]} out of range (must be below 2^31)`);
  if (!isToken(m[2]!)) throw new SipParseError('SIP_PARSE_CSEQ', `CSeq '${clip(value)}': bad method`);
  return { seq, method: m[2]! };
}

export function parseNameAddr(value: string, header = 'name-addr'): NameAddr {
  const v = value.trim();
  let display: string | undefined;
  let i = 0;
  if (v.startsWith('"')) {
    const q = readQuoted(v, 0, 'SIP_PARSE_NAME_ADDR', header);
    display = q.text;
    i = q.end;
    while (v[i] === ' ' || v[i] === '\t') i++;
    if (v[i] !== '<') throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: quoted display name must be followed by <URI>`);
  }
  const lt = v.indexOf('<', i);
  let uri: string;
  let paramsText: string;
  let bracketed = false;
  if (lt >= 0) {
    const before = v.slice(i, lt).trim();
    if (display === undefined && before.length > 0) {
      // display-name = *(token LWS) / quoted-string
      for (const word of before.split(/[ \t]+/)) {
        if (!isToken(word)) throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: display name '${clip(before)}' must be quoted (it has characters a token cannot hold)`);
      }
      display = before;
    }
    const gt = v.indexOf('>', lt);
    if (gt < 0) throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: missing '>'`);
    uri = v.slice(lt + 1, gt);
    if (uri !== uri.trim() || /\s/.test(uri)) throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: whitespace inside <${clip(uri)}>`);
    paramsText = v.slice(gt + 1);
    bracketed = true;
  } else {
    // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10).
    const semi = v.indexOf(';');
    uri = (semi >= 0 ? v.slice(0, semi) : v).trim();
    paramsText = semi >= 0 ? v.slice(semi) : '';
    if (uri.includes('?') || uri.includes(',')) {
      throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: a URI with headers or commas must be enclosed in <>`);
    }
    if (/\s/.test(uri)) throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: whitespace inside the URI '${clip(uri)}'`);
  }
  if (uri.length === 0) throw new SipParseError('SIP_PARSE_NAME_ADDR', `${header}: empty URI`);
  const params = parseParams(paramsText, 'SIP_PARSE_NAME_ADDR', header);
  const tag = params.get('tag');
  return { display, uri, params, tag: tag ?? undefined, bracketed };
}

export function formatNameAddr(na: { display?: string; uri: string; params?: Map<string, string | null> }): string {
  const display = na.display ? `"${na.display.replace(/(["\\])/g, '\\$1')}" ` : '';
  return `${display}<${na.uri}>${na.params ? formatParams(na.params) : ''}`;
}

/** Parses the URI of a name-addr, throwing SipParseError. */
export function nameAddrUri(na: NameAddr): SipUri {
  return parseUri(na.uri);
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
