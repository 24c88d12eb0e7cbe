// A request written straight to bytes by a send template (engine/ua/send-template.ts),
// the way SIPp sends its precompiled messages: the writer writes requests one
// after another into a slab and hands out each as a view of its own bytes
// there (no copy), and the SipMessage that stands for it holds those bytes
// (`wire`, what the client
// transaction sends and retransmits) and the few fields the transaction and
// dialog layers ask for on every request (top Via branch, CSeq, Call-ID).
// Its header list is read off its bytes only when something asks for it
// (a conformance check, a dialog made from its 2xx, the ACK of a non-2xx).

import { canonicalHeaderName } from './header-names.js';
import type { CSeq } from './headers.js';
import { SipMessage, type HeaderField } from './message.js';
import { parseMessage } from './parse.js';
import { MessageScan } from './scan.js';

/** Size of a slab: Node's own Buffer pool size, so that a request pins no more memory than a pooled Buffer would. */
const SLAB = 8192;

/**
 * One per event loop: requests are written one after the other into a slab (as Node's Buffer pool carves small
 * Buffers out of one), and each one handed out is a view of its own bytes in it, with no copy; a request that does
 * not fit in what is left of the slab moves to a new one. A writer used as scratch (reset, never finished) reuses its
 * space.
 */
export class WireWriter {
  private buf = Buffer.allocUnsafeSlow(SLAB);
  /** Where the message being written starts in `buf`. */
  private start = 0;
  private at = 0;

  /** Starts a new message (dropping what was written since the last finish). */
  reset(): void {
    this.at = this.start;
  }

  get length(): number {
    return this.at - this.start;
  }

  /** Writes text as UTF-8 (what serializeMessage writes). */
  text(s: string): void {
    // A UTF-16 unit never takes more than 3 bytes of UTF-8.
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    this.at += b.copy(this.buf, this.at);
  }

  /** A non-negative integer in decimal, without making its string. */
  int(n: number): void {
    this.room(16);
    if (n === 0) {
      this.buf[this.at++] = 48;
      return;
    }
    let digits = 0;
    for (let v = n; v > 0; v = Math.floor(v / 10)) digits++;
    let i = this.at + digits;
    this.at = i;
    for (let v = n; v > 0; v = Math.floor(v / 10)) this.buf[--i] = 48 + (v % 10);
  }

  /** Appends what another writer holds (a body written before the head that gives its length). */
  append(other: WireWriter): void {
    const n = other.length;
    this.room(n);
    // Byte by byte: Buffer#copy of a range makes a view object of the source per call.
    const from = other.buf;
    const to = this.buf;
    for (let i = 0, j = other.start, k = this.at; i < n; i++) to[k + i] = from[j + i]!;
    this.at += n;
  }

  /** The message written since reset(): a view of its bytes in the slab, which later messages do not touch. */
  finish(): Buffer {
    const out = this.buf.subarray(this.start, this.at);
    // The next message starts on an 8-byte boundary, as Node's pool aligns its Buffers.
    this.start = this.at = Math.min(this.buf.length, (this.at + 7) & ~7);
    return out;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const written = this.at - this.start;
    const slab = Buffer.allocUnsafeSlow(Math.max(SLAB, 2 * (written + n)));
    this.buf.copy(slab, 0, this.start, this.at);
    this.buf = slab;
    this.start = 0;
    this.at = written;
  }
}

/** Reads a sent request's header list back when asked (rarely: not on the path of a plain call). */
const scan = new MessageScan();

/** The UA's values in a request's mandatory header lines (the send template's slots). */
export interface SentValues {
  via: string;
  from: string;
  to: string;
  callId: string;
}

/**
 * What a send template knows of every request it writes, so that reading one of the usual headers needs no
 * header list: the names of all its lines, the names whose first line holds the UA's value (`first`), and those
 * whose only line does (`only`).
 */
export interface SentShape {
  names: ReadonlySet<string>;
  first: ReadonlySet<string>;
  only: ReadonlySet<string>;
}

/** The constructor's argument, one for all (an object per request would be garbage at once). */
const REQUEST = { isRequest: true };

export class SentRequest extends SipMessage {
  private readonly seq: number;
  /** The bytes as written (`wire` goes when a header changes; the body stays these bytes' own). */
  private readonly bytes: Buffer;

  constructor(
    wire: Buffer,
    method: string,
    uri: string,
    private readonly branch: string,
    cseq: number,
    private readonly values: SentValues,
    private readonly shape: SentShape,
    /** Where the body starts in `wire`; -1: it has none. */
    private readonly bodyAt: number,
  ) {
    super(REQUEST);
    this.method = method;
    this.uri = uri;
    this.wire = wire;
    this.bytes = wire;
    this.seq = cseq;
  }

  protected override loadBody(): Buffer {
    return this.bodyAt < 0 ? super.loadBody() : this.bytes.subarray(this.bodyAt);
  }

  override cseq(): CSeq {
    return this.wire ? (this.cseqCache ??= { seq: this.seq, method: this.method }) : super.cseq();
  }

  override topBranch(): string {
    return this.wire ? this.branch : super.topBranch();
  }

  override get(name: string): string | undefined {
    if (!this.wire) return super.get(name);
    const canon = canonicalHeaderName(name);
    if (!this.shape.names.has(canon)) return undefined;
    return this.shape.first.has(canon) ? this.ours(canon) : super.get(canon);
  }

  override getAll(name: string): string[] {
    if (!this.wire) return super.getAll(name);
    const canon = canonicalHeaderName(name);
    if (!this.shape.names.has(canon)) return [];
    return this.shape.only.has(canon) ? [this.ours(canon)] : super.getAll(canon);
  }

  override has(name: string): boolean {
    if (!this.wire) return super.has(name);
    const canon = canonicalHeaderName(name);
    // A Route line is there only when the dialog has a route set: read off the bytes.
    return this.shape.names.has(canon) && (this.shape.first.has(canon) || super.has(canon));
  }

  override single(name: string): string | undefined {
    if (!this.wire) return super.single(name);
    const canon = canonicalHeaderName(name);
    if (!this.shape.names.has(canon)) return undefined;
    return this.shape.only.has(canon) ? this.ours(canon) : super.single(canon);
  }

  private ours(canon: string): string {
    switch (canon) {
      case 'Via':
        return this.values.via;
      case 'From':
        return this.values.from;
      case 'To':
        return this.values.to;
      case 'Call-ID':
        return this.values.callId;
      default:
        return `${this.seq} ${this.method}`;
    }
  }

  protected override loadHeaders(): HeaderField[] {
    const bytes = this.wire;
    if (!bytes) return [];
    const list = scan.scan(bytes) === 'ok' ? scan.toMessage().headers : parseMessage(bytes).headers;
    // A built message has no Content-Length line: serializing writes it (serialize.ts).
    return list.filter((h) => h.name !== 'Content-Length');
  }
}
