// Framing of SIP messages on byte streams (TCP, TLS): RFC 3261 §18.3 says the
// Content-Length header is what delimits messages. Buffer sizes are bounded so
// a peer that never ends its headers cannot exhaust memory.

import { SipParseError } from './errors.js';
import { findHeaderEnd, findLfHeaderEnd, hasBareLfLines } from './parse.js';

export interface FramerLimits {
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
}

const CONTENT_LENGTH_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;

  constructor(limits: FramerLimits = {}) {
    this.maxHeaderBytes = limits.maxHeaderBytes ?? 64 * 1024;
    this.maxBodyBytes = limits.maxBodyBytes ?? 1024 * 1024;
  }

  /** Bytes held while waiting for the rest of a message. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Adds bytes; returns every complete message now available. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      // RFC 5626 §3.5.1 keep-alives (CRLF pings) between messages are skipped.
      let skip = 0;
      while (skip + 1 < this.buf.length && this.buf[skip] === 13 && this.buf[skip + 1] === 10) skip += 2;
      if (skip > 0) this.buf = this.buf.subarray(skip);
      if (this.buf.length === 0) break;
      // Lines that end in a bare LF (RFC 3261 §7 wants CRLF) are framed too: parseMessage reads them.
      const bareLf = hasBareLfLines(this.buf);
      const headEnd = bareLf ? findLfHeaderEnd(this.buf) : findHeaderEnd(this.buf);
      if (headEnd < 0) {
        if (this.buf.length > this.maxHeaderBytes) {
          this.buf = Buffer.alloc(0);
          throw new SipParseError('SIP_FRAME_HEADER_TOO_LARGE', `stream: no end of headers within ${this.maxHeaderBytes} bytes`);
        }
        break;
      }
      if (headEnd > this.maxHeaderBytes) {
        this.buf = Buffer.alloc(0);
        throw new SipParseError('SIP_FRAME_HEADER_TOO_LARGE', `stream: headers of ${headEnd} bytes exceed ${this.maxHeaderBytes}`);
      }
      const m = CONTENT_LENGTH_RE.exec(this.buf.toString('latin1', 0, headEnd));
      const length = m ? Number(m[1]) : 0;
      if (!m) {
        this.buf = Buffer.alloc(0);
        throw new SipParseError('SIP_PARSE_CONTENT_LENGTH', 'stream: message without Content-Length (required on TCP/TLS)');
      }
      if (length > this.maxBodyBytes) {
        this.buf = Buffer.alloc(0);
        throw new SipParseError('SIP_FRAME_BODY_TOO_LARGE', `stream: Content-Length ${length} exceeds ${this.maxBodyBytes}`);
      }
      const bodyStart = !bareLf ? headEnd + 4 : this.buf[headEnd + 1] === 10 ? headEnd + 2 : headEnd + 3;
      const total = bodyStart + length;
      if (this.buf.length < total) break;
      out.push(this.buf.subarray(0, total));
      this.buf = this.buf.subarray(total);
    }
    // Do not pin a large chunk in memory for a small unfinished tail.
    if (this.buf.length > 0 && this.buf.byteOffset > 0) this.buf = Buffer.from(this.buf);
    return out;
  }
}
