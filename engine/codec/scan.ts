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
// After 'ok', toMessage() makes the message a view over the bytes
// (scanned-message.ts: the index copied into a pooled record, strings made
// when read) whose every accessor answers as parseMessage's message would.
// test/codec/scan.test.ts holds it to all that over the RFC 4475 corpus and a
// fuzz corpus. The UDP receive path of a worker (engine/ua/runtime-incoming.ts)
// scans every datagram: a retransmitted final response of a finished
// transaction is matched and counted off the scan alone, with no message made.
// Over 400 lines on purpose: the pass and its field readers share one set of
// offsets and each must agree with the parser case by case; split, they would
// hand that state across files.

import { latin1, methodAt, reasonAt, versionAt } from './interned.js';
import type { SipMessage } from './message.js';
import { records, REC_ASCII, REC_BODY, REC_BRANCH, REC_CALL_ID, REC_COUNT, REC_CSEQ, REC_FROM, REC_LINES, REC_TO, recordInts, ScannedMessage } from './scanned-message.js';

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
const LONG_NAMES = NAMES.filter(([n]) => n.length > 1).map(([n]) => Buffer.from(n, 'latin1'));
const LONG_IDS = NAMES.filter(([n]) => n.length > 1).map(([, id]) => id);
const COMPACT_IDS: (number | undefined)[] = [];
for (const [n, id] of NAMES) if (n.length === 1) COMPACT_IDS[n.charCodeAt(0)] = id;

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
  nameStarts = new Uint32Array(32);
  nameEnds = new Uint32Array(32);
  /** Where the body starts and its length as framed (Content-Length, or the rest of the datagram). */
  bodyStart = 0;
  bodyLength = 0;

  private methodStart = 0;
  private methodEnd = 0;
  /** Request-URI and SIP-Version of a request; the reason phrase of a response (lineEnd: end of the start line). */
  private uriStart = 0;
  private uriEnd = 0;
  private versionStart = 0;
  private versionEnd = 0;
  private reasonStart = 0;
  private lineEnd = 0;
  /** Whether every byte of the start line and header section is ASCII. */
  private ascii = true;
  /** Bits of every byte seen by nextLine (bit 7 set: a non-ASCII byte). */
  private seen = 0;
  private branchStart = 0;
  private branchEnd = 0;
  private cseqMethodStart = 0;
  private cseqMethodEnd = 0;
  private callIdStart = 0;
  private callIdEnd = 0;
  /** What readTag found. */
  private tagStart = -1;
  private tagEnd = -1;
  /** -1: no tag parameter (or one without a value). */
  private fromTagStart = -1;
  private fromTagEnd = -1;
  private toTagStart = -1;
  private toTagEnd = -1;
  /** Header lines the matching fields were read from. */
  private callIdLine = 0;
  private fromLine = 0;
  private toLine = 0;

  /** Request method (from the request line): a constant string for the usual ones, else made on read. */
  get method(): string {
    return methodAt(this.buf, this.methodStart, this.methodEnd);
  }

  /** The top Via's branch, '' when it has none: what SipMessage.topBranch() returns. */
  get branch(): string {
    return latin1(this.buf, this.branchStart, this.branchEnd);
  }

  get cseqMethod(): string {
    return methodAt(this.buf, this.cseqMethodStart, this.cseqMethodEnd);
  }

  get callId(): string {
    return latin1(this.buf, this.callIdStart, this.callIdEnd);
  }

  get fromTag(): string | undefined {
    return this.fromTagStart < 0 ? undefined : latin1(this.buf, this.fromTagStart, this.fromTagEnd);
  }

  get toTag(): string | undefined {
    return this.toTagStart < 0 ? undefined : latin1(this.buf, this.toTagStart, this.toTagEnd);
  }

  /** The CSeq method equals `method`, compared on the bytes (no string made). */
  cseqMethodIs(method: string): boolean {
    const n = this.cseqMethodEnd - this.cseqMethodStart;
    if (n !== method.length) return false;
    for (let i = 0; i < n; i++) if (this.buf[this.cseqMethodStart + i] !== method.charCodeAt(i)) return false;
    return true;
  }

  /**
   * The message these bytes are (only after 'ok'): a view over them (scanned-message.ts) that answers every accessor
   * as the SipMessage parseMessage makes would, its index copied into the shared record pool.
   */
  toMessage(): SipMessage {
    if (this.outcome !== 'ok') throw new Error('MessageScan.toMessage: the last scan was not ok');
    const buf = this.buf;
    const n = this.headerCount;
    const at = records.take(recordInts(n));
    const ix = records.ints;
    ix[at + REC_COUNT] = n;
    ix[at + REC_ASCII] = this.ascii ? 1 : 0;
    ix[at + REC_BRANCH] = this.branchStart;
    ix[at + REC_BRANCH + 1] = this.branchEnd;
    ix[at + REC_CSEQ] = this.cseqSeq;
    ix[at + REC_CSEQ + 1] = this.cseqMethodStart;
    ix[at + REC_CSEQ + 2] = this.cseqMethodEnd;
    ix[at + REC_CALL_ID] = this.callIdLine;
    ix[at + REC_FROM] = this.fromLine;
    ix[at + REC_FROM + 1] = this.fromTagStart;
    ix[at + REC_FROM + 2] = this.fromTagEnd;
    ix[at + REC_TO] = this.toLine;
    ix[at + REC_TO + 1] = this.toTagStart;
    ix[at + REC_TO + 2] = this.toTagEnd;
    ix[at + REC_BODY] = this.bodyStart;
    ix[at + REC_BODY + 1] = this.bodyLength;
    for (let i = 0, k = at + REC_LINES; i < n; i++, k += 4) {
      ix[k] = this.nameStarts[i]!;
      ix[k + 1] = this.nameEnds[i]!;
      ix[k + 2] = this.valueStarts[i]!;
      ix[k + 3] = this.valueEnds[i]!;
    }
    const end = this.bodyStart + this.bodyLength;
    const raw = end === buf.length ? buf : buf.subarray(0, end);
    const msg = new ScannedMessage(raw, ix, at);
    msg.isRequest = this.isRequest;
    if (this.isRequest) {
      msg.method = this.method;
      msg.uri = latin1(buf, this.uriStart, this.uriEnd);
      msg.version = versionAt(buf, this.versionStart, this.versionEnd);
    } else {
      msg.status = this.status;
      msg.reason = reasonAt(buf, this.reasonStart, this.lineEnd, this.status);
    }
    msg.raw = raw;
    return msg;
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
    // The header section ends at the first empty line (the first CRLFCRLF), or, in a datagram that
    // ends right after a header line's CRLF, at that CRLF.
    this.seen = 0;
    let eol = this.nextLine(buf, start, len);
    // No CRLF, or a bare LF in the start line: a message with LF line ends, which the parser reads liberally.
    if (eol < 0 || buf.indexOf(LF, start) < eol) return 'fallback';
    const first = this.startLine(buf, start, eol);
    if (first === 'reject') return 'reject';
    let fallback = first === 'fallback';

    let via = -1;
    let from = -1;
    let to = -1;
    let callId = -1;
    let cseq = -1;
    let length = -1;
    let bodyStart: number;
    for (let at = eol + 2; ; ) {
      if (at >= len) {
        bodyStart = len;
        break;
      }
      if (buf[at] === CR && buf[at + 1] === LF) {
        bodyStart = at + 2;
        break;
      }
      eol = this.nextLine(buf, at, len);
      if (eol < 0) return 'reject'; // no blank line ends the headers
      const lineStart = at;
      at = eol + 2;
      // A line with another folded onto it (RFC 3261 §7.3.1) reads otherwise joined: the parser's business.
      if (at < len && isWs(buf[at]!)) {
        fallback = true;
        continue;
      }
      const line = this.headerLine(buf, lineStart, eol);
      if (line === 'reject') return 'reject';
      if (line === 'fallback') {
        fallback = true;
        continue;
      }
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
    this.ascii = (this.seen & 0x80) === 0;
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
    if (!this.readTag(buf, this.valueStarts[from]!, this.valueEnds[from]!)) return 'fallback';
    this.fromTagStart = this.tagStart;
    this.fromTagEnd = this.tagEnd;
    if (!this.readTag(buf, this.valueStarts[to]!, this.valueEnds[to]!)) return 'fallback';
    this.toTagStart = this.tagStart;
    this.toTagEnd = this.tagEnd;
    this.callIdLine = callId;
    this.fromLine = from;
    this.toLine = to;
    return 'ok';
  }

  /** Index of the next CRLF at or after `from`, or -1; notes the bits of the bytes it passes. */
  private nextLine(buf: Buffer, from: number, end: number): number {
    let seen = 0;
    for (let i = from; i + 1 < end; i++) {
      const c = buf[i]!;
      if (c === CR && buf[i + 1] === LF) {
        this.seen |= seen;
        return i;
      }
      seen |= c;
    }
    return -1;
  }

  /** Status-Line or Request-Line (RFC 3261 §7.1, §7.2), as parseMessage reads them. */
  private startLine(buf: Buffer, s: number, e: number): ScanOutcome {
    if (e - s >= 4 && buf[s] === 83 && buf[s + 1] === 73 && buf[s + 2] === 80 && buf[s + 3] === 47) {
      // 'SIP/': Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
      this.isRequest = false;
      // SIP-Version must be SIP/2.0 (the parser's check), then SP and a three-digit code.
      if (e - s < 11 || buf[s + 4] !== 50 || buf[s + 5] !== 46 || buf[s + 6] !== 48 || buf[s + 7] !== SP) {
        // Not 'SIP/2.0 ': the parser refuses it too (missing status code, or another version).
        return 'reject';
      }
      const sp1 = s + 7;
      let sp2 = sp1 + 1;
      while (sp2 < e && buf[sp2] !== SP) sp2++;
      if (sp2 - sp1 - 1 !== 3) return 'reject';
      const status = digits(buf, sp1 + 1, sp2);
      if (status < 100 || status > 699) return 'reject';
      this.status = status;
      this.reasonStart = sp2 + 1;
      this.lineEnd = e;
      return 'ok';
    }
    // Request-Line = Method SP Request-URI SP SIP-Version: runs of spaces tolerated, as the parser does.
    this.isRequest = true;
    for (let i = s; i < e; i++) if (buf[i]! === HT || !PLAIN[buf[i]!]) return 'fallback';
    let i = s;
    while (i < e && buf[i] === SP) i++;
    let end = e;
    while (end > i && buf[end - 1] === SP) end--;
    // Three words: method, Request-URI, version.
    const ms = i;
    while (i < end && buf[i] !== SP) i++;
    const me = i;
    while (i < end && buf[i] === SP) i++;
    if (i >= end) return 'reject';
    const us = i;
    while (i < end && buf[i] !== SP) i++;
    const ue = i;
    while (i < end && buf[i] === SP) i++;
    if (i >= end) return 'reject';
    const vs = i;
    while (i < end && buf[i] !== SP) i++;
    const ve = i;
    if (ve !== end || me === ms) return 'reject';
    for (let k = ms; k < me; k++) if (!TOKEN[buf[k]!]) return 'reject';
    // SIP-Version: SIP/<digits>.<digits>
    if (ve - vs < 7 || buf[vs] !== 83 || buf[vs + 1] !== 73 || buf[vs + 2] !== 80 || buf[vs + 3] !== 47) return 'reject';
    let dot = vs + 4;
    while (dot < ve && buf[dot] !== 46) dot++;
    if (dot >= ve || digits(buf, vs + 4, dot, Infinity) < 0 || digits(buf, dot + 1, ve, Infinity) < 0) return 'reject';
    this.methodStart = ms;
    this.methodEnd = me;
    this.uriStart = us;
    this.uriEnd = ue;
    this.versionStart = vs;
    this.versionEnd = ve;
    return 'ok';
  }

  /** One header line: indexes it and returns its number; -1 for an empty line. */
  private headerLine(buf: Buffer, s: number, e: number): number | 'reject' | 'fallback' {
    if (s === e) return -1;
    // A line starting with whitespace folds into the previous one (RFC 3261 §7.3.1): the parser's business.
    if (isWs(buf[s]!)) return 'fallback';
    let colon = s;
    while (colon < e && buf[colon] !== COLON) colon++;
    if (colon >= e || colon === s) return 'reject';
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
    // The parser trims values of every whitespace JavaScript knows (Unicode spaces, vertical tab...):
    // a value with anything but SP/HT trimmed at its edges is the parser's.
    if (vs < ve && (trimmable(buf[vs]!) || trimmable(buf[ve - 1]!))) return 'fallback';
    const n = this.headerCount++;
    if (n >= this.nameIds.length) this.grow();
    this.nameIds[n] = nameId(buf, s, nameEnd);
    this.nameStarts[n] = s;
    this.nameEnds[n] = nameEnd;
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
    const ns = new Uint32Array(size);
    ns.set(this.nameStarts);
    const ne = new Uint32Array(size);
    ne.set(this.nameEnds);
    this.nameStarts = ns;
    this.nameEnds = ne;
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
    for (let i = s; i < e; i++) {
      if (buf[i] !== SEMI) continue;
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

  /**
   * The tag of a From or To value read as parseNameAddr reads it (RFC 3261 §20.20, §20.39, §25.1):
   * tagStart..tagEnd: the last `tag` parameter's value, -1 when it has none; false when the
   * value is not of the plain forms (escapes in a quoted display name, a quoted parameter value,
   * non-ASCII, anything the parser would refuse): then the parser decides.
   */
  private readTag(buf: Buffer, s: number, e: number): boolean {
    for (let i = s; i < e; i++) if (!PLAIN[buf[i]!]) return false;
    let params: number;
    let from = s;
    if (buf[s] === QUOTE) {
      // "display name" <URI>: a quoted name without escapes, then the URI in <>.
      const close = find(buf, QUOTE, s + 1, e);
      if (close < 0) return false;
      for (let i = s + 1; i < close; i++) if (buf[i] === 92) return false; // a backslash escape
      from = close + 1;
      while (from < e && isWs(buf[from]!)) from++;
      if (buf[from] !== LT || from >= e) return false;
    }
    const lt = find(buf, LT, from, e);
    if (lt >= 0) {
      // [display-name words] <URI> params: display words must be tokens, the URI non-empty without whitespace.
      for (let i = from; i < lt; i++) if (!TOKEN[buf[i]!] && !isWs(buf[i]!)) return false;
      const gt = find(buf, GT, lt, e);
      if (gt < 0 || gt === lt + 1) return false;
      for (let i = lt + 1; i < gt; i++) if (isWs(buf[i]!)) return false;
      params = gt + 1;
    } else {
      // addr-spec: the header's parameters start at the first ';'; the URI holds no '?', ',' or whitespace.
      let semi = find(buf, SEMI, s, e);
      if (semi < 0) semi = e;
      let ue = semi;
      while (ue > s && isWs(buf[ue - 1]!)) ue--;
      if (ue === s) return false;
      for (let i = s; i < ue; i++) {
        const c = buf[i]!;
        if (c === 63 || c === COMMA || isWs(c)) return false;
      }
      params = semi;
    }
    // ;name[=value] parameters; a later tag overrides an earlier one, as in the parser's Map.
    let tagStart = -1;
    let tagEnd = -1;
    let i = params;
    while (i < e) {
      while (i < e && isWs(buf[i]!)) i++;
      if (i >= e) break;
      if (buf[i] !== SEMI) return false;
      i++;
      while (i < e && isWs(buf[i]!)) i++;
      const ns = i;
      while (i < e && buf[i] !== EQUALS && buf[i] !== SEMI && !isWs(buf[i]!)) i++;
      const ne = i;
      if (ne === ns) return false;
      for (let k = ns; k < ne; k++) if (!TOKEN[buf[k]!]) return false;
      const isTag = ne - ns === 3 && asciiLowerIs(buf, ns, 'tag');
      while (i < e && isWs(buf[i]!)) i++;
      if (i < e && buf[i] === EQUALS) {
        i++;
        while (i < e && isWs(buf[i]!)) i++;
        const vs = i;
        if (i < e && buf[i] === QUOTE) return false; // a quoted value: the parser unescapes it
        while (i < e && buf[i] !== SEMI && !isWs(buf[i]!)) i++;
        if (i === vs) return false;
        if (isTag) {
          tagStart = vs;
          tagEnd = i;
        }
      } else if (isTag) tagStart = tagEnd = -1;
    }
    this.tagStart = tagStart;
    this.tagEnd = tagEnd;
    return true;
  }
}

/** A byte that may be (part of) whitespace JavaScript's trim() removes, other than SP and HT. */
function trimmable(c: number): boolean {
  return (c >= 10 && c <= 13) || c >= 0x80;
}

/** Index of `byte` in buf[from, end), or -1. */
function find(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/** Id of a header name (case-insensitive, long or compact form). */
function nameId(buf: Buffer, s: number, e: number): number {
  const n = e - s;
  if (n === 1) return COMPACT_IDS[buf[s]! | 0x20] ?? HeaderId.OTHER;
  for (let k = 0; k < LONG_NAMES.length; k++) {
    const name = LONG_NAMES[k]!;
    if (name.length !== n) continue;
    let i = 0;
    while (i < n && (buf[s + i]! | 0x20) === name[i]) i++;
    if (i === n) return LONG_IDS[k]!;
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

const EMPTY = Buffer.alloc(0);
