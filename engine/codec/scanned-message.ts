// A received message as a view over its bytes: what MessageScan.toMessage()
// makes of a datagram it read (scan.ts). The scan's index (each header line's
// name and value offsets, and where the top Via branch, CSeq, Call-ID and the
// From and To tags are) is copied into a shared pool of Int32 records, the way
// Node's Buffer pool holds small Buffers: the message holds its bytes, the
// pool and where its record starts, and no header object. A getter makes the
// string it returns from the bytes when it is read; the fields the transaction
// and dialog layers match by (RFC 3261 §17.1.3, §17.2.3, §12) come straight
// from the record. The header list is made only when someone asks for it (or
// changes a header): from then on the message is an ordinary SipMessage.
// test/codec/scan.test.ts holds every accessor to parseMessage's answer over
// the RFC 4475 corpus and a fuzz corpus.

import { appendTopLevel, splitTopLevel } from './grammar.js';
import { canonicalHeaderName, compactLetter, isListHeader, isTableName } from './header-names.js';
import { parseNameAddr, type CSeq, type NameAddr } from './headers.js';
import { latin1, methodAt } from './interned.js';
import { SipMessage, type HeaderField } from './message.js';

/** Slots of a message's record; then four per header line: name start, name end, value start, value end. */
export const REC_COUNT = 0;
/** 1 when every byte of the start line and headers is ASCII (values are then read as latin1, else as UTF-8). */
export const REC_ASCII = 1;
/** Start and end of the top Via's branch (equal when it has none). */
export const REC_BRANCH = 2;
/** CSeq number, then the method's start and end. */
export const REC_CSEQ = 4;
/** Line of the (first) Call-ID. */
export const REC_CALL_ID = 7;
/** Line of the From, then its tag's start and end (-1: no tag); the same for To. */
export const REC_FROM = 8;
export const REC_TO = 11;
/** Where the body starts and its length as framed. */
export const REC_BODY = 14;
export const REC_LINES = 16;

/** Ints in the record of a message with `lines` header lines. */
export function recordInts(lines: number): number {
  return REC_LINES + 4 * lines;
}

/**
 * 8 KB, the size of Node's Buffer pool: a message kept long (a dialog's last response) pins at most its pool array,
 * as a kept pooled Buffer pins its pool; a new array every 39 or so records is about 5 B of JS heap a message.
 */
const POOL_INTS = 2_048;

/** Records of scanned messages, carved from one Int32Array until it is full, then from a new one. */
class RecordPool {
  ints = new Int32Array(POOL_INTS);
  private used = 0;

  /** Where a record of `n` ints starts in `ints` (read `ints` after this call: it may be a new array). */
  take(n: number): number {
    if (this.used + n > this.ints.length) {
      this.ints = new Int32Array(Math.max(POOL_INTS, n));
      this.used = 0;
    }
    const at = this.used;
    this.used += n;
    return at;
  }
}

export const records = new RecordPool();

const NO_INIT = { isRequest: false };

export class ScannedMessage extends SipMessage {
  /** The datagram: the record's offsets count from its first byte. */
  private readonly bytes: Buffer;
  private readonly ix: Int32Array;
  private readonly at: number;

  constructor(bytes: Buffer, ix: Int32Array, at: number) {
    super(NO_INIT);
    this.bytes = bytes;
    this.ix = ix;
    this.at = at;
  }

  override get(name: string): string | undefined {
    if (this.list) return super.get(name);
    const canon = canonicalHeaderName(name);
    const line = this.next(canon, isTableName(canon), compactLetter(canon), 0);
    if (line < 0) return undefined;
    const v = this.lineValue(line);
    return isListHeader(canon) ? splitTopLevel(v)[0] : v;
  }

  override getAll(name: string): string[] {
    if (this.list) return super.getAll(name);
    const canon = canonicalHeaderName(name);
    const known = isTableName(canon);
    const compact = compactLetter(canon);
    const split = isListHeader(canon);
    const out: string[] = [];
    for (let line = this.next(canon, known, compact, 0); line >= 0; line = this.next(canon, known, compact, line + 1)) {
      if (split) appendTopLevel(this.lineValue(line), out);
      else out.push(this.lineValue(line));
    }
    return out;
  }

  override single(name: string): string | undefined {
    if (this.list) return super.single(name);
    const canon = canonicalHeaderName(name);
    const known = isTableName(canon);
    const compact = compactLetter(canon);
    const line = this.next(canon, known, compact, 0);
    if (line < 0 || this.next(canon, known, compact, line + 1) >= 0) return undefined;
    return this.lineValue(line);
  }

  override has(name: string): boolean {
    if (this.list) return super.has(name);
    const canon = canonicalHeaderName(name);
    return this.next(canon, isTableName(canon), compactLetter(canon), 0) >= 0;
  }

  override count(name: string): number {
    if (this.list) return super.count(name);
    const canon = canonicalHeaderName(name);
    const known = isTableName(canon);
    const compact = compactLetter(canon);
    let n = 0;
    for (let line = this.next(canon, known, compact, 0); line >= 0; line = this.next(canon, known, compact, line + 1)) n++;
    return n;
  }

  override topBranch(): string {
    if (this.list || this.viasCache) return super.topBranch();
    return latin1(this.bytes, this.ix[this.at + REC_BRANCH]!, this.ix[this.at + REC_BRANCH + 1]!);
  }

  override cseq(): CSeq {
    if (this.list) return super.cseq();
    const r = this.at + REC_CSEQ;
    return (this.cseqCache ??= { seq: this.ix[r]!, method: methodAt(this.bytes, this.ix[r + 1]!, this.ix[r + 2]!) });
  }

  override callId(): string {
    if (this.list) return super.callId();
    return this.lineValue(this.ix[this.at + REC_CALL_ID]!);
  }

  override from(): NameAddr {
    if (this.list) return super.from();
    return (this.fromCache ??= this.nameAddr(REC_FROM, 'From'));
  }

  override to(): NameAddr {
    if (this.list) return super.to();
    return (this.toCache ??= this.nameAddr(REC_TO, 'To'));
  }

  protected override loadBody(): Buffer {
    const start = this.ix[this.at + REC_BODY]!;
    const length = this.ix[this.at + REC_BODY + 1]!;
    return length > 0 ? this.bytes.subarray(start, start + length) : super.loadBody();
  }

  /** The value of header line `line` as the parser has it (trimmed; UTF-8 when the head is not all ASCII). */
  lineValue(line: number): string {
    const k = this.at + REC_LINES + 4 * line;
    const ix = this.ix;
    return ix[this.at + REC_ASCII] ? latin1(this.bytes, ix[k + 2]!, ix[k + 3]!) : this.bytes.toString('utf8', ix[k + 2]!, ix[k + 3]!);
  }

  protected override loadHeaders(): HeaderField[] {
    const ix = this.ix;
    const n = ix[this.at + REC_COUNT]!;
    const list: HeaderField[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const k = this.at + REC_LINES + 4 * i;
      list[i] = { name: canonicalHeaderName(latin1(this.bytes, ix[k]!, ix[k + 1]!)), value: this.lineValue(i) };
    }
    return list;
  }

  /** The first header line at or after `from` whose name canonicalHeaderName makes `canon`, or -1 (no string made). */
  private next(canon: string, known: boolean, compact: number, from: number): number {
    const ix = this.ix;
    const buf = this.bytes;
    const n = ix[this.at + REC_COUNT]!;
    const len = canon.length;
    for (let line = from; line < n; line++) {
      const k = this.at + REC_LINES + 4 * line;
      const s = ix[k]!;
      const size = ix[k + 1]! - s;
      if (size === 1 && compact !== 0) {
        if ((buf[s]! | 0x20) === compact) return line;
        continue;
      }
      if (size !== len) continue;
      let i = 0;
      // A table name holds only letters and '-', for which OR 0x20 folds case; another matches byte for byte.
      if (known) while (i < len && (buf[s + i]! | 0x20) === (canon.charCodeAt(i) | 0x20)) i++;
      else while (i < len && buf[s + i] === canon.charCodeAt(i)) i++;
      if (i === len) return line;
    }
    return -1;
  }

  private nameAddr(slot: number, header: 'From' | 'To'): NameAddr {
    const r = this.at + slot;
    const tagStart = this.ix[r + 1]!;
    return new NameAddrView(tagStart < 0 ? undefined : latin1(this.bytes, tagStart, this.ix[r + 2]!), this, this.ix[r]!, header);
  }
}

/**
 * A From or To of a scanned message: its tag (what dialogs and transactions match by) read off the scan; the rest
 * parsed from the line the first time any of it is read. The scan has checked that the line parses.
 */
class NameAddrView implements NameAddr {
  private parsed: NameAddr | undefined;

  constructor(
    readonly tag: string | undefined,
    private readonly msg: ScannedMessage,
    private readonly line: number,
    private readonly header: 'From' | 'To',
  ) {}

  get display(): string | undefined {
    return this.full().display;
  }

  get uri(): string {
    return this.full().uri;
  }

  get params(): Map<string, string | null> {
    return this.full().params;
  }

  get bracketed(): boolean {
    return this.full().bracketed;
  }

  private full(): NameAddr {
    return (this.parsed ??= parseNameAddr(this.msg.lineValue(this.line), this.header));
  }
}
