// The SIP message object shared by every layer: start line, headers as an
// ordered list of raw lines (names canonical), body bytes, and structured
// accessors that parse a header only when someone asks, caching the result.

import { canonicalHeaderName, isListHeader } from './header-names.js';
import { appendTopLevel, splitTopLevel, parseDigits } from './grammar.js';
import { parseCSeq, parseNameAddr, parseVia, type CSeq, type NameAddr, type Via } from './headers.js';
import { SipParseError } from './errors.js';

export interface HeaderField {
  name: string;
  value: string;
}

const BRANCH_RE = /;[ \t]*branch[ \t]*=[ \t]*([^;, \t]+)/i;

export class SipMessage {
  isRequest: boolean;
  method: string;
  uri: string;
  status: number;
  reason: string;
  /**
   * Read through `headers`: a message built by a send template (sent-request.ts) or from a scan (scanned-message.ts)
   * reads its list off its bytes when first asked; until then its accessors read the bytes themselves.
   */
  protected list: HeaderField[] | undefined;
  /** Read through `body`: a message over received or sent bytes makes its view of the body when first asked. */
  protected bodyBytes: Buffer | undefined;
  /** SIP-Version of a request line; anything but SIP/2.0 fails validation (505). */
  version = 'SIP/2.0';
  /** The bytes it was parsed from (a message built here has none): what a ladder keeps instead of the object. */
  raw: Buffer | undefined;
  /** Parsed from lines ending in a bare LF, not CRLF (RFC 3261 §7 wants CRLF; we read it anyway). */
  bareLf = false;

  /**
   * The bytes to send, when a send template wrote them (sent-request.ts): the transaction sends these instead of
   * serializing. Any change to the headers lets them go, so what is sent is always what the message says.
   */
  wire: Buffer | undefined;

  /** Parsed header values, each kept on the message itself (no object of its own: a received message is small). */
  protected viasCache: Via[] | undefined;
  protected cseqCache: CSeq | undefined;
  protected fromCache: NameAddr | undefined;
  protected toCache: NameAddr | undefined;

  constructor(init: {
    isRequest: boolean;
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    headers?: HeaderField[];
    body?: Buffer;
  }) {
    this.isRequest = init.isRequest;
    this.method = init.method ?? '';
    this.uri = init.uri ?? '';
    this.status = init.status ?? 0;
    this.reason = init.reason ?? '';
    this.list = init.headers;
    this.bodyBytes = init.body;
  }

  get body(): Buffer {
    return (this.bodyBytes ??= this.loadBody());
  }

  set body(bytes: Buffer) {
    this.bodyBytes = bytes;
  }

  /** The body of a message made without one: empty here; a message over bytes reads its own. */
  protected loadBody(): Buffer {
    return EMPTY;
  }

  get headers(): HeaderField[] {
    return (this.list ??= this.loadHeaders());
  }

  set headers(list: HeaderField[]) {
    this.list = list;
    this.wire = undefined;
  }

  /** The header list of a message made without one: empty here; a sent request reads its own bytes. */
  protected loadHeaders(): HeaderField[] {
    return [];
  }

  static request(method: string, uri: string): SipMessage {
    return new SipMessage({ isRequest: true, method, uri });
  }

  static response(status: number, reason: string): SipMessage {
    return new SipMessage({ isRequest: false, status, reason });
  }

  /** First value of a header; for list headers, the first list element. */
  get(name: string): string | undefined {
    const canon = canonicalHeaderName(name);
    for (let i = 0; i < this.headers.length; i++) {
      const h = this.headers[i]!;
      if (h.name === canon) return isListHeader(canon) ? splitTopLevel(h.value)[0] : h.value;
    }
    return undefined;
  }

  /** Every value of a header, comma lists split at the top level. */
  getAll(name: string): string[] {
    const canon = canonicalHeaderName(name);
    const list = isListHeader(canon);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.name !== canon) continue;
      if (list) appendTopLevel(h.value, out);
      else out.push(h.value);
    }
    return out;
  }

  /** The value of the only line of a header; undefined when it has none or several. */
  single(name: string): string | undefined {
    const canon = canonicalHeaderName(name);
    let value: string | undefined;
    for (const h of this.headers) {
      if (h.name !== canon) continue;
      if (value !== undefined) return undefined;
      value = h.value;
    }
    return value;
  }

  has(name: string): boolean {
    const canon = canonicalHeaderName(name);
    return this.headers.some((h) => h.name === canon);
  }

  /** Number of header lines with that name (duplicate detection). */
  count(name: string): number {
    const canon = canonicalHeaderName(name);
    let n = 0;
    for (const h of this.headers) if (h.name === canon) n++;
    return n;
  }

  set(name: string, value: string): void {
    const canon = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === canon);
    this.headers = this.headers.filter((h) => h.name !== canon);
    this.headers.splice(i < 0 ? this.headers.length : i, 0, { name: canon, value });
    this.invalidate(canon);
  }

  add(name: string, value: string): void {
    const canon = canonicalHeaderName(name);
    this.headers.push({ name: canon, value });
    this.invalidate(canon);
  }

  prepend(name: string, value: string): void {
    const canon = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === canon);
    this.headers.splice(i < 0 ? 0 : i, 0, { name: canon, value });
    this.invalidate(canon);
  }

  remove(name: string): void {
    const canon = canonicalHeaderName(name);
    this.headers = this.headers.filter((h) => h.name !== canon);
    this.invalidate(canon);
  }

  /** Removes the first value of a list header (e.g. our own Via on a proxied response). */
  removeFirst(name: string): void {
    const canon = canonicalHeaderName(name);
    const i = this.headers.findIndex((h) => h.name === canon);
    if (i < 0) return;
    const values = splitTopLevel(this.headers[i]!.value);
    if (values.length <= 1) this.headers.splice(i, 1);
    else this.headers[i] = { name: canon, value: values.slice(1).join(', ') };
    this.invalidate(canon);
  }

  vias(): Via[] {
    return (this.viasCache ??= this.getAll('Via').map(parseVia));
  }

  /**
   * The top Via's branch ('' when it has none), read off the header text without parsing the Via: what the
   * transaction layer matches every response by (§17.1.3). A Via line holding several values, or quotes, is parsed.
   */
  topBranch(): string {
    if (this.viasCache) return this.viasCache[0]?.branch ?? '';
    let v: string | undefined;
    for (let i = 0; i < this.headers.length; i++) {
      if (this.headers[i]!.name === 'Via') {
        v = this.headers[i]!.value;
        break;
      }
    }
    if (v === undefined) throw new SipParseError('SIP_PARSE_MISSING_HEADER', 'missing Via header');
    if (v.includes(',') || v.includes('"')) return this.topVia().branch ?? '';
    return BRANCH_RE.exec(v)?.[1] ?? '';
  }

  topVia(): Via {
    const v = this.vias()[0];
    if (!v) throw new SipParseError('SIP_PARSE_MISSING_HEADER', 'missing Via header');
    return v;
  }

  cseq(): CSeq {
    if (this.cseqCache) return this.cseqCache;
    const v = this.get('CSeq');
    if (v === undefined) throw new SipParseError('SIP_PARSE_MISSING_HEADER', 'missing CSeq header');
    return (this.cseqCache = parseCSeq(v));
  }

  callId(): string {
    const v = this.get('Call-ID');
    if (v === undefined || v.length === 0) throw new SipParseError('SIP_PARSE_MISSING_HEADER', 'missing Call-ID header');
    return v;
  }

  from(): NameAddr {
    if (this.fromCache) return this.fromCache;
    const v = this.get('From');
    if (v === undefined) throw new SipParseError('SIP_PARSE_MISSING_HEADER', 'missing From header');
    return (this.fromCache = parseNameAddr(v, 'From'));
  }

  to(): NameAddr {
    if (this.toCache) return this.toCache;
    const v = this.get('To');
    if (v === undefined) throw new SipParseError('SIP_PARSE_MISSING_HEADER', 'missing To header');
    return (this.toCache = parseNameAddr(v, 'To'));
  }

  /** Contacts as name-addrs; 'Contact: *' yields an empty list and isWildcardContact() true. */
  contacts(): NameAddr[] {
    return this.getAll('Contact')
      .filter((c) => c !== '*')
      .map((c) => parseNameAddr(c, 'Contact'));
  }

  isWildcardContact(): boolean {
    return this.getAll('Contact').some((c) => c === '*');
  }

  maxForwards(): number | undefined {
    return this.intHeader('Max-Forwards', 255);
  }

  expires(): number | undefined {
    return this.intHeader('Expires', 2 ** 32 - 1);
  }

  contentLength(): number | undefined {
    return this.intHeader('Content-Length', 2 ** 32 - 1);
  }

  /** A non-negative integer header, or undefined when absent; out of range or non-numeric throws. */
  intHeader(name: string, max: number): number | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const n = parseDigits(v.trim());
    if (n < 0 || n > max) throw new SipParseError('SIP_PARSE_RANGE', `${canonicalHeaderName(name)}: '${v.slice(0, 30)}' is not a number in 0..${max}`);
    return n;
  }

  private invalidate(canon: string): void {
    this.wire = undefined;
    if (canon === 'Via') this.viasCache = undefined;
    else if (canon === 'CSeq') this.cseqCache = undefined;
    else if (canon === 'From') this.fromCache = undefined;
    else if (canon === 'To') this.toCache = undefined;
  }
}

const EMPTY = Buffer.alloc(0);
