// A received message as a view over its bytes: one pass over the Buffer fills
// a reused index (each header line's name id and value offsets) and picks out
// what the transaction and dialog layers match by (RFC 3261 §17.1.3, §17.2.3,
// §12): the top Via branch, CSeq number and method, Call-ID, From and To tags,
// the status code or method. Strings are made only when a getter is read.
//
// It agrees with parseMessage and SipMessage's accessors by construction, and
// says when it cannot:
//   'ok'       the framing is one parseMessage accepts, and every field above is
//              present and reads exactly as the full parser reads it;
//   'reject'   parseMessage would throw (framing, start line, header name,
//              Content-Length): the caller may count a parse error, or parse to
//              get the parser's own error text;
//   'fallback' anything the scanner does not read itself (folded lines, quoted
//              or comma-separated values, non-ASCII bytes in a field it picks,
//              a missing or malformed matching header): parse in full.
// test/codec/scan.test.ts holds it to that over the RFC 4475 corpus and a fuzz
// corpus.

export type ScanOutcome = 'ok' | 'reject' | 'fallback';

/** Header name ids of the index: the headers the scanner reads; every other name is OTHER. */
export const HeaderId = { OTHER: 0, VIA: 1, FROM: 2, TO: 3, CALL_ID: 4, CSEQ: 5, CONTENT_LENGTH: 6 } as const;

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;
const COLON = 58;
const SEMI = 59;
const EQUALS = 61;
const COMMA = 44;
const QUOTE = 34;
const LT = 60;
const GT = 62;

// token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") (RFC 3261 §25.1)
const TOKEN = new Uint8Array(256);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOKEN[ch.charCodeAt(0)] = 1;

/** Printable ASCII, space and tab: the bytes a field may hold for the scanner to read it itself. */
const PLAIN = new Uint8Array(256);
for (let c = 0x20; c < 0x7f; c++) PLAIN[c] = 1;
PLAIN[HT] = 1;

/** Long and compact spellings (lower case) of the headers the scanner reads (RFC 3261 §7.3.3). */
const NAMES: [string, number][] = [
  ['via', HeaderId.VIA], ['v', HeaderId.VIA], ['from', HeaderId.FROM], ['f', HeaderId.FROM], ['to', HeaderId.TO], ['t', HeaderId.TO],
  ['call-id', HeaderId.CALL_ID], ['i', HeaderId.CALL_ID], ['cseq', HeaderId.CSEQ], ['content-length', HeaderId.CONTENT_LENGTH], ['l', HeaderId.CONTENT_LENGTH],
];
const NAME_BYTES = NAMES.map(([n, id]) => [Buffer.from(n, 'latin1'), id] as const);

function isWs(c: number): boolean {
  return c === SP || c === HT;
}

export class MessageScan {
  buf: Buffer = EMPTY;
  outcome: ScanOutcome = 'fallback';
  isRequest = false;
  /** Status code of a response; 0 for a request. */
  status = 0;
  cseqSeq = -1;
  /** Header lines indexed: name id and the offsets of the trimmed value. */
  headerCount = 0;
  nameIds = new Uint8Array(32);
  valueStarts = new Uint32Array(32);
  valueEnds = new Uint32Array(32);
  /** Where the body starts and its length as framed (Content-Length, or the rest of the datagram). */
  bodyStart = 0;
  bodyLength = 0;

  private methodStart = 0;
  private methodEnd = 0;
  private branchStart = 0;
  private branchEnd = 0;
  private cseqMethodStart = 0;
  private cseqMethodEnd = 0;
  private callIdStart = 0;
  private callIdEnd = 0;
  /** -1: no tag parameter (or one without a value). */
  private fromTagStart = -1;
  private fromTagEnd = -1;
  private toTagStart = -1;
  private toTagEnd = -1;

  /** Request method (from the request line), made on read. */
  get method(): string {
    return this.buf.toString('latin1', this.methodStart, this.methodEnd);
  }

  /** The top Via's branch, '' when it has none: what SipMessage.topBranch() returns. */
  get branch(): string {
    return this.buf.toString('latin1', this.branchStart, this.branchEnd);
  }

  get cseqMethod(): string {
    return this.buf.toString('latin1', this.cseqMethodStart, this.cseqMethodEnd);
  }

  get callId(): string {
    return this.buf.toString('latin1', this.callIdStart, this.callIdEnd);
  }

  get fromTag(): string | undefined {
    return this.fromTagStart < 0 ? undefined : this.buf.toString('latin1', this.fromTagStart, this.fromTagEnd);
  }

  get toTag(): string | undefined {
    return this.toTagStart < 0 ? undefined : this.buf.toString('latin1', this.toTagStart, this.toTagEnd);
  }

  /** The CSeq method equals `method`, compared on the bytes (no string made). */
  cseqMethodIs(method: string): boolean {
    const n = this.cseqMethodEnd - this.cseqMethodStart;
    if (n !== method.length) return false;
    for (let i = 0; i < n; i++) if (this.buf[this.cseqMethodStart + i] !== method.charCodeAt(i)) return false;
    return true;
  }

  /** Scans one whole message (a datagram, or one framed off a stream with `stream` set); see the file header. */
  scan(buf: Buffer, stream = false): ScanOutcome {
    this.buf = buf;
    this.headerCount = 0;
    this.status = 0;
    this.cseqSeq = -1;
    this.fromTagStart = this.fromTagEnd = this.toTagStart = this.toTagEnd = -1;
    return (this.outcome = this.run(buf, stream));
  }

  private run(buf: Buffer, stream: boolean): ScanOutcome {
    const len = buf.length;
    // RFC 3261 §7.5: CRLFs before the start line are ignored.
    let start = 0;
    while (start + 1 < len && buf[start] === CR && buf[start + 1] === LF) start += 2;
    if (start >= len) return 'reject';
    let headEnd = buf.indexOf(CRLFCRLF, start);
    let bodyStart: number;
    if (headEnd < 0) {
      if (len >= 2 && buf[len - 2] === CR && buf[len - 1] === LF) {
        headEnd = len - 2;
        bodyStart = len;
      } else return 'reject';
    } else bodyStart = headEnd + 4;

    let lineEnd = buf.indexOf(CRLF, start);
    if (lineEnd < 0 || lineEnd > headEnd) lineEnd = headEnd;
    const first = this.startLine(buf, start, lineEnd);
    if (first === 'reject') return 'reject';
    let fallback = first === 'fallback';

    let via = -1;
    let from = -1;
    let to = -1;
    let callId = -1;
    let cseq = -1;
    let length = -1;
    for (let at = lineEnd + 2; at <= headEnd; ) {
      let end = buf.indexOf(CRLF, at);
      if (end < 0 || end > headEnd) end = headEnd;
      const line = this.headerLine(buf, at, end);
      at = end + 2;
      // A line without ':' may have it on the line folded onto it: then it is the parser's.
      if (line === 'reject') return at < headEnd && isWs(buf[at]!) ? 'fallback' : 'reject';
      if (line === 'fallback') {
        fallback = true;
        continue;
      }
      if (line < 0) continue; // an empty line
      const id = this.nameIds[line]!;
      if (id === HeaderId.VIA) {
        if (via < 0) via = line;
      } else if (id === HeaderId.FROM) {
        if (from < 0) from = line;
      } else if (id === HeaderId.TO) {
        if (to < 0) to = line;
      } else if (id === HeaderId.CALL_ID) {
        if (callId < 0) callId = line;
      } else if (id === HeaderId.CSEQ) {
        if (cseq < 0) cseq = line;
      } else if (id === HeaderId.CONTENT_LENGTH) {
        // Every Content-Length counts: non-digits, or two that differ, fail the parse (RFC 3261 §20.14).
        const s = this.valueStarts[line]!;
        const e = this.valueEnds[line]!;
        for (let i = s; i < e; i++) if (!PLAIN[buf[i]!]) fallback = true;
        if (fallback) continue;
        const n = digits(buf, s, e);
        if (n < 0 || n > 0xffffffff) return 'reject';
        if (length >= 0 && n !== length) return 'reject';
        length = n;
      }
    }
    if (fallback) return 'fallback';
    const available = len - bodyStart;
    if (length < 0) {
      if (stream) return 'reject';
      length = available;
    } else if (length > available) return 'reject';
    this.bodyStart = bodyStart;
    this.bodyLength = length;

    if (via < 0 || from < 0 || to < 0 || callId < 0 || cseq < 0) return 'fallback';
    if (!this.readBranch(buf, this.valueStarts[via]!, this.valueEnds[via]!)) return 'fallback';
    if (!this.readCSeq(buf, this.valueStarts[cseq]!, this.valueEnds[cseq]!)) return 'fallback';
    if (!this.readCallId(buf, this.valueStarts[callId]!, this.valueEnds[callId]!)) return 'fallback';
    const f = tagOf(buf, this.valueStarts[from]!, this.valueEnds[from]!);
    if (f === undefined) return 'fallback';
    const t = tagOf(buf, this.valueStarts[to]!, this.valueEnds[to]!);
    if (t === undefined) return 'fallback';
    [this.fromTagStart, this.fromTagEnd] = f;
    [this.toTagStart, this.toTagEnd] = t;
    return 'ok';
  }

  /** Status-Line or Request-Line (RFC 3261 §7.1, §7.2), as parseMessage reads them. */
  private startLine(buf: Buffer, s: number, e: number): ScanOutcome {
    if (e - s >= 4 && buf[s] === 83 && buf[s + 1] === 73 && buf[s + 2] === 80 && buf[s + 3] === 47) {
      // 'SIP/': Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
      this.isRequest = false;
      const sp1 = buf.indexOf(SP, s);
      if (sp1 < 0 || sp1 >= e) return 'reject';
      if (sp1 - s !== 7 || buf.toString('latin1', s, sp1) !== 'SIP/2.0') return 'reject';
      let sp2 = buf.indexOf(SP, sp1 + 1);
      if (sp2 < 0 || sp2 > e) sp2 = e;
      if (sp2 - sp1 - 1 !== 3) return 'reject';
      const status = digits(buf, sp1 + 1, sp2);
      if (status < 100 || status > 699) return 'reject';
      this.status = status;
      return 'ok';
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: runs of spaces tolerated, as the parser does.
    this.isRequest = true;
    for (let i = s; i < e; i++) if (buf[i]! === HT || !PLAIN[buf[i]!]) return 'fallback';
    let i = s;
    while (i < e && buf[i] === SP) i++;
    let end = e;
    while (end > i && buf[end - 1] === SP) end--;
    const parts: number[] = [];
    while (i < end) {
      const p = i;
      while (i < end && buf[i] !== SP) i++;
      parts.push(p, i);
      while (i < end && buf[i] === SP) i++;
    }
    if (parts.length !== 6) return 'reject';
    for (let k = parts[0]!; k < parts[1]!; k++) if (!TOKEN[buf[k]!]) return 'reject';
    // SIP-Version: SIP/<digits>.<digits>
    const vs = parts[4]!;
    const ve = parts[5]!;
    if (ve - vs < 7 || buf.toString('latin1', vs, vs + 4) !== 'SIP/') return 'reject';
    const dot = buf.indexOf(46, vs + 4);
    if (dot < 0 || dot >= ve || digits(buf, vs + 4, dot, Infinity) < 0 || digits(buf, dot + 1, ve, Infinity) < 0) return 'reject';
    this.methodStart = parts[0]!;
    this.methodEnd = parts[1]!;
    return 'ok';
  }

  /** One header line: indexes it and returns its number; -1 for an empty line. */
  private headerLine(buf: Buffer, s: number, e: number): number | 'reject' | 'fallback' {
    if (s === e) return -1;
    // A line starting with whitespace folds into the previous one (RFC 3261 §7.3.1): the parser's business.
    if (isWs(buf[s]!)) return 'fallback';
    const colon = buf.indexOf(COLON, s);
    if (colon < 0 || colon >= e || colon === s) return 'reject';
    let nameEnd = colon;
    while (nameEnd > s && isWs(buf[nameEnd - 1]!)) nameEnd--;
    for (let i = s; i < nameEnd; i++) {
      const c = buf[i]!;
      if (TOKEN[c]) continue;
      // Other whitespace (vertical tab, form feed, CR, LF, Unicode) is trimmed off a name by the parser.
      if (c >= 0x80 || (c >= 9 && c <= 13)) return 'fallback';
      return 'reject';
    }
    if (nameEnd === s) return 'reject';
    let vs = colon + 1;
    let ve = e;
    while (vs < ve && isWs(buf[vs]!)) vs++;
    while (ve > vs && isWs(buf[ve - 1]!)) ve--;
    const n = this.headerCount++;
    if (n >= this.nameIds.length) this.grow();
    this.nameIds[n] = nameId(buf, s, nameEnd);
    this.valueStarts[n] = vs;
    this.valueEnds[n] = ve;
    return n;
  }

  private grow(): void {
    const size = this.nameIds.length * 2;
    const ids = new Uint8Array(size);
    ids.set(this.nameIds);
    const vs = new Uint32Array(size);
    vs.set(this.valueStarts);
    const ve = new Uint32Array(size);
    ve.set(this.valueEnds);
    this.nameIds = ids;
    this.valueStarts = vs;
    this.valueEnds = ve;
  }

  /**
   * The branch as SipMessage.topBranch() reads a one-value Via: the first `;branch=` parameter, its value
   * up to `;`, `,`, SP or HT; '' without one. A Via line with a comma or a quote is for the parser.
   */
  private readBranch(buf: Buffer, s: number, e: number): boolean {
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (!PLAIN[c] || c === COMMA || c === QUOTE) return false;
    }
    this.branchStart = this.branchEnd = s;
    for (let i = buf.indexOf(SEMI, s); i >= 0 && i < e; i = buf.indexOf(SEMI, i + 1)) {
      let j = i + 1;
      while (j < e && isWs(buf[j]!)) j++;
      if (j + 6 > e || !asciiLowerIs(buf, j, 'branch')) continue;
      j += 6;
      while (j < e && isWs(buf[j]!)) j++;
      if (j >= e || buf[j] !== EQUALS) continue;
      j++;
      while (j < e && isWs(buf[j]!)) j++;
      let k = j;
      while (k < e && buf[k] !== SEMI && !isWs(buf[k]!)) k++;
      if (k === j) continue;
      this.branchStart = j;
      this.branchEnd = k;
      return true;
    }
    return true;
  }

  /** CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16), the number below 2^31 (§8.1.1.5). */
  private readCSeq(buf: Buffer, s: number, e: number): boolean {
    for (let i = s; i < e; i++) if (!PLAIN[buf[i]!]) return false;
    let i = s;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
    const seq = digits(buf, s, i);
    if (seq < 0 || seq >= 2 ** 31) return false;
    if (i >= e || !isWs(buf[i]!)) return false;
    while (i < e && isWs(buf[i]!)) i++;
    const m = i;
    while (i < e && TOKEN[buf[i]!]) i++;
    if (i === m || i !== e) return false;
    this.cseqSeq = seq;
    this.cseqMethodStart = m;
    this.cseqMethodEnd = e;
    return true;
  }

  private readCallId(buf: Buffer, s: number, e: number): boolean {
    if (s === e) return false;
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c <= SP || c >= 0x7f) return false;
    }
    this.callIdStart = s;
    this.callIdEnd = e;
    return true;
  }
}

/**
 * The tag of a From or To value read as parseNameAddr reads it (RFC 3261 §20.20, §20.39, §25.1):
 * [start, end) of the last `tag` parameter's value, [-1, -1] when it has none, undefined when the
 * value is not of the plain forms (quoted display name, quotes, non-ASCII, anything the parser
 * would refuse): then the parser decides.
 */
function tagOf(buf: Buffer, s: number, e: number): [number, number] | undefined {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (!PLAIN[c] || c === QUOTE) return undefined;
  }
  let params: number;
  const lt = buf.indexOf(LT, s);
  if (lt >= 0 && lt < e) {
    // [display-name words] <URI> params: display words must be tokens, the URI non-empty without whitespace.
    for (let i = s; i < lt; i++) if (!TOKEN[buf[i]!] && !isWs(buf[i]!)) return undefined;
    const gt = buf.indexOf(GT, lt);
    if (gt < 0 || gt >= e || gt === lt + 1) return undefined;
    for (let i = lt + 1; i < gt; i++) if (isWs(buf[i]!)) return undefined;
    params = gt + 1;
  } else {
    // addr-spec: the header's parameters start at the first ';'; the URI holds no '?', ',' or whitespace.
    let semi = buf.indexOf(SEMI, s);
    if (semi < 0 || semi >= e) semi = e;
    let ue = semi;
    while (ue > s && isWs(buf[ue - 1]!)) ue--;
    if (ue === s) return undefined;
    for (let i = s; i < ue; i++) {
      const c = buf[i]!;
      if (c === 63 || c === COMMA || isWs(c)) return undefined;
    }
    params = semi;
  }
  // ;name[=value] parameters; a later tag overrides an earlier one, as in the parser's Map.
  let tag: [number, number] = [-1, -1];
  let i = params;
  while (i < e) {
    while (i < e && isWs(buf[i]!)) i++;
    if (i >= e) break;
    if (buf[i] !== SEMI) return undefined;
    i++;
    while (i < e && isWs(buf[i]!)) i++;
    const ns = i;
    while (i < e && buf[i] !== EQUALS && buf[i] !== SEMI && !isWs(buf[i]!)) i++;
    const ne = i;
    if (ne === ns) return undefined;
    for (let k = ns; k < ne; k++) if (!TOKEN[buf[k]!]) return undefined;
    const isTag = ne - ns === 3 && asciiLowerIs(buf, ns, 'tag');
    while (i < e && isWs(buf[i]!)) i++;
    if (i < e && buf[i] === EQUALS) {
      i++;
      while (i < e && isWs(buf[i]!)) i++;
      const vs = i;
      while (i < e && buf[i] !== SEMI && !isWs(buf[i]!)) i++;
      if (i === vs) return undefined;
      if (isTag) tag = [vs, i];
    } else if (isTag) tag = [-1, -1];
  }
  return tag;
}

/** Id of a header name (case-insensitive, long or compact form). */
function nameId(buf: Buffer, s: number, e: number): number {
  const n = e - s;
  for (const [name, id] of NAME_BYTES) {
    if (name.length !== n) continue;
    let same = true;
    for (let i = 0; i < n; i++) {
      if ((buf[s + i]! | 0x20) !== name[i]) {
        same = false;
        break;
      }
    }
    if (same) return id;
  }
  return HeaderId.OTHER;
}

/** buf[at..] starts with `lower` (a lower-case ASCII word), ignoring case. */
function asciiLowerIs(buf: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[at + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** A decimal number made only of digits (at most `max` of them, as parseDigits allows 15), or -1. */
function digits(buf: Buffer, s: number, e: number, max = 15): number {
  if (e <= s || e - s > max) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
