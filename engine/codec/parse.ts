// Turns bytes into a SipMessage: start line, unfolded header lines (RFC 3261
// §7.3.1), and the body framed by Content-Length (§18.3, §20.14). Structured
// header values are left for the lazy accessors on SipMessage; validateMessage
// (validate.ts) is the strict, complete check.

import { SipParseError } from './errors.js';
import { canonicalHeaderName } from './header-names.js';
import { isToken, parseDigits } from './grammar.js';
import { SipMessage, type HeaderField } from './message.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');

export interface ParseOptions {
  /** Stream transports require Content-Length (RFC 3261 §18.3). */
  stream?: boolean;
  /** Parse the start line and headers only; the body is left empty (to answer 400 to a bad body). */
  headersOnly?: boolean;
}

/** Index of the blank line ending the header section, or -1. */
export function findHeaderEnd(buf: Buffer, from = 0): number {
  return buf.indexOf(CRLFCRLF, from);
}

export function parseMessage(buf: Buffer, opts: ParseOptions = {}): SipMessage {
  // RFC 3261 §7.5: implementations SHOULD ignore CRLFs preceding the start line (and bare LFs, liberally).
  let start = 0;
  while (start < buf.length && (buf[start] === 10 || (buf[start] === 13 && buf[start + 1] === 10))) start += buf[start] === 10 ? 1 : 2;
  if (start >= buf.length) throw new SipParseError('SIP_PARSE_EMPTY', 'empty message');
  let headEnd = buf.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  if (headEnd < 0) {
    // Lines that end in a bare LF, taken liberally as most stacks do.
    if (hasBareLfLines(buf, start)) return parseLfMessage(buf, start, opts);
    // A datagram that ends right after its last header line has no body.
    if (buf.length >= 2 && buf[buf.length - 2] === 13 && buf[buf.length - 1] === 10) {
      headEnd = buf.length - 2;
      bodyStart = buf.length;
    } else {
      throw new SipParseError('SIP_PARSE_TRUNCATED', 'truncated message: no blank line ends the headers');
    }
  } else {
    bodyStart = headEnd + 4;
  }
  const head = buf.toString('utf8', start, headEnd);
  const lines = head.split('\r\n');
  // A first line with an LF inside ends in a bare LF: the CRLFCRLF found is in the body, not the end of the headers.
  // (Checked on the short first line, so that the CRLF hot path pays next to nothing.)
  if (lines[0]!.includes('\n')) return parseLfMessage(buf, start, opts);
  return finishMessage(buf, lines, bodyStart, opts);
}

/**
 * RFC 3261 §7: "The start-line, each message-header line, and the empty line MUST be terminated by a carriage-return
 * line-feed sequence (CRLF)". A message whose lines end in a bare LF breaks that rule but says what it means, and
 * Kamailio, SIPp and most stacks read it: so do we (a CR before an LF is then taken as part of the line end too),
 * and mark the message, so that the conformance catalog can warn about its sender.
 */
function parseLfMessage(buf: Buffer, start: number, opts: ParseOptions): SipMessage {
  const blank = findLfHeaderEnd(buf, start);
  let headEnd: number;
  let bodyStart: number;
  if (blank < 0) {
    if (buf[buf.length - 1] !== 10) throw new SipParseError('SIP_PARSE_TRUNCATED', 'truncated message: no blank line ends the headers');
    headEnd = buf.length - 1;
    bodyStart = buf.length;
  } else {
    headEnd = blank;
    bodyStart = buf[blank + 1] === 10 ? blank + 2 : blank + 3;
  }
  const lines = buf.toString('utf8', start, headEnd).split(/\r?\n/);
  const msg = finishMessage(buf, lines, bodyStart, opts);
  msg.bareLf = true;
  return msg;
}

/**
 * In a message with LF line ends: the index of the LF that ends the last header line (the next line, LF or CRLF, is
 * empty), or -1. The stream framer uses it too.
 */
export function findLfHeaderEnd(buf: Buffer, from = 0): number {
  for (let i = buf.indexOf(10, from); i >= 0 && i + 1 < buf.length; i = buf.indexOf(10, i + 1)) {
    if (buf[i + 1] === 10 || (buf[i + 1] === 13 && buf[i + 2] === 10)) return i;
  }
  return -1;
}

/** Whether the message that starts at `from` ends its first line with a bare LF (not CRLF). */
export function hasBareLfLines(buf: Buffer, from = 0): boolean {
  const lf = buf.indexOf(10, from);
  return lf > from && buf[lf - 1] !== 13;
}

function finishMessage(buf: Buffer, lines: string[], bodyStart: number, opts: ParseOptions): SipMessage {
  const msg = parseStartLine(lines[0]!);
  msg.headers = parseHeaderLines(lines);

  let length: number | undefined;
  for (const h of msg.headers) {
    if (h.name !== 'Content-Length') continue;
    const n = parseDigits(h.value);
    if (n < 0 || n > 0xffffffff) throw new SipParseError('SIP_PARSE_CONTENT_LENGTH', `Content-Length: '${h.value.slice(0, 30)}' is not a non-negative number`);
    if (length !== undefined && n !== length) throw new SipParseError('SIP_PARSE_CONTENT_LENGTH', `Content-Length: conflicting values ${length} and ${n}`);
    length = n;
  }
  if (opts.headersOnly) return msg;
  const available = buf.length - bodyStart;
  if (length === undefined) {
    if (opts.stream) throw new SipParseError('SIP_PARSE_CONTENT_LENGTH', 'Content-Length is required on stream transports');
    length = available;
  } else if (length > available) {
    throw new SipParseError('SIP_PARSE_CONTENT_LENGTH', `Content-Length ${length} is larger than the ${available} body bytes received`);
  }
  // Bytes after Content-Length in a datagram are discarded (RFC 3261 §18.3, RFC 4475 §3.1.1.8).
  msg.body = length === 0 ? EMPTY : buf.subarray(bodyStart, bodyStart + length);
  msg.raw = buf.subarray(0, bodyStart + length);
  return msg;
}

/**
 * The Call-ID of a message given as text, found without parsing it (long or compact form, `i`): for raw messages
 * sent as written, which may be malformed on purpose, so that their answers can still be routed back.
 */
export function findCallId(text: string): string | undefined {
  return /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1];
}

function parseStartLine(line: string): SipMessage {
  if (line.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
    const sp1 = line.indexOf(' ');
    if (sp1 < 0) throw new SipParseError('SIP_PARSE_START_LINE', `status line '${clip(line)}': missing status code`);
    const version = line.slice(0, sp1);
    if (version !== 'SIP/2.0') throw new SipParseError('SIP_PARSE_VERSION', `status line: unsupported version '${clip(version)}'`);
    let sp2 = line.indexOf(' ', sp1 + 1);
    if (sp2 < 0) sp2 = line.length;
    const codeText = line.slice(sp1 + 1, sp2);
    const status = codeText.length === 3 ? parseDigits(codeText) : -1;
    if (status < 100 || status > 699) throw new SipParseError('SIP_PARSE_STATUS', `status line: status code '${clip(codeText)}' is not in 100..699`);
    return new SipMessage({ isRequest: false, status, reason: line.slice(sp2 + 1) });
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF. Runs of spaces and
  // trailing spaces are tolerated (RFC 4475 §3.1.2.9/10 leave the choice); a
  // space inside the Request-URI makes more than three parts and is rejected.
  const parts = line.trim().split(/ +/);
  if (parts.length !== 3) {
    throw new SipParseError('SIP_PARSE_START_LINE', `request line '${clip(line)}': expected 'METHOD Request-URI SIP/2.0'`);
  }
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) throw new SipParseError('SIP_PARSE_START_LINE', `request line: bad method '${clip(method)}'`);
  if (!/^SIP\/\d+\.\d+$/.test(version)) throw new SipParseError('SIP_PARSE_START_LINE', `request line: bad SIP version '${clip(version)}'`);
  // A version other than SIP/2.0 still parses, so a server can answer 505 (validate.ts rejects it).
  const msg = new SipMessage({ isRequest: true, method, uri });
  msg.version = version;
  return msg;
}

function parseHeaderLines(lines: string[]): HeaderField[] {
  const headers: HeaderField[] = [];
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i]!;
    // Header folding: a line starting with whitespace continues the previous one.
    while (i + 1 < lines.length && (lines[i + 1]!.startsWith(' ') || lines[i + 1]!.startsWith('\t'))) {
      line += ' ' + lines[++i]!.trim();
    }
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError('SIP_PARSE_HEADER', `header line '${clip(line)}': missing ':'`);
    const rawName = line.slice(0, colon).trimEnd();
    if (!isToken(rawName)) throw new SipParseError('SIP_PARSE_HEADER', `header name '${clip(rawName)}' is not a token`);
    headers.push({ name: canonicalHeaderName(rawName), value: line.slice(colon + 1).trim() });
  }
  return headers;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

const EMPTY = Buffer.alloc(0);
