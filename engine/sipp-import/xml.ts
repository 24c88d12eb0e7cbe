// A small strict XML reader for SIPp scenario files (XML 1.0 as SIPp's files
// use it): elements with attributes, text, CDATA sections, comments, the XML
// declaration, a DOCTYPE without an internal subset, processing instructions;
// the five predefined entities and character references. Every element keeps
// the line it starts on, so the importer can say where a thing it cannot
// convert is. No namespaces, no DTD entities: refused with the line.

import { SipstormError } from '../errors.js';

export class XmlError extends SipstormError {
  constructor(
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super('SIPP_XML', `${line}:${col}: ${reason}`);
  }
}

export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  /** Line and column of its '<'. */
  line: number;
  col: number;
  children: XmlNode[];
}

export type XmlNode = XmlElement | { text: string; cdata: boolean; line: number };

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][A-Za-z0-9_.:-]*/y;

class Reader {
  private i = 0;
  private line = 1;
  private lineStart = 0;

  constructor(private readonly s: string) {}

  fail(reason: string, at = this.i): never {
    // Line and column of `at` (it may be behind i: the start of what was wrong).
    let line = 1;
    let start = 0;
    for (let k = 0; k < at; k++) if (this.s.charCodeAt(k) === 10) {
      line++;
      start = k + 1;
    }
    throw new XmlError(line, at - start + 1, reason);
  }

  private advanceTo(j: number): void {
    for (let k = this.i; k < j; k++) if (this.s.charCodeAt(k) === 10) {
      this.line++;
      this.lineStart = k + 1;
    }
    this.i = j;
  }

  private starts(t: string): boolean {
    return this.s.startsWith(t, this.i);
  }

  private skipSpace(): void {
    let j = this.i;
    while (j < this.s.length && /\s/.test(this.s[j]!)) j++;
    this.advanceTo(j);
  }

  private until(end: string, what: string): string {
    const j = this.s.indexOf(end, this.i);
    if (j < 0) this.fail(`${what} is never closed with '${end}'`);
    const text = this.s.slice(this.i, j);
    this.advanceTo(j + end.length);
    return text;
  }

  private name(): string {
    NAME.lastIndex = this.i;
    const m = NAME.exec(this.s);
    if (!m) this.fail(`expected a name, found '${this.s.slice(this.i, this.i + 10)}'`);
    this.advanceTo(this.i + m[0].length);
    return m[0];
  }

  /** Entities and character references in text or an attribute value. */
  private decode(raw: string, at: number): string {
    return raw.replace(/&([^;&\s]*);?/g, (whole, ref: string, off: number) => {
      if (!whole.endsWith(';')) this.fail(`'&' must start an entity like &amp;`, at + off);
      if (ref.startsWith('#x') && /^#x[0-9A-Fa-f]+$/.test(ref)) return String.fromCodePoint(parseInt(ref.slice(2), 16));
      if (/^#[0-9]+$/.test(ref)) return String.fromCodePoint(parseInt(ref.slice(1), 10));
      const v = PREDEFINED[ref];
      if (v === undefined) this.fail(`unknown entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; and character references)`, at + off);
      return v;
    });
  }

  /** Comments, processing instructions and (before the root) the declaration and DOCTYPE. */
  private misc(prolog: boolean): boolean {
    if (this.starts('<!--')) {
      const at = this.i;
      this.advanceTo(this.i + 4);
      const body = this.until('-->', 'a comment');
      if (body.includes('--')) this.fail(`'--' inside a comment`, at);
      return true;
    }
    if (this.starts('<?')) {
      this.advanceTo(this.i + 2);
      this.until('?>', 'a processing instruction');
      return true;
    }
    if (prolog && this.starts('<!DOCTYPE')) {
      const at = this.i;
      const body = this.until('>', 'the DOCTYPE');
      if (body.includes('[')) this.fail('a DOCTYPE with an internal subset (entity definitions) is not read', at);
      return true;
    }
    return false;
  }

  document(): XmlElement {
    if (this.s.charCodeAt(0) === 0xfeff) this.advanceTo(1);
    for (;;) {
      this.skipSpace();
      if (!this.misc(true)) break;
    }
    if (!this.starts('<')) this.fail('expected the root element');
    const root = this.element();
    for (;;) {
      this.skipSpace();
      if (this.i >= this.s.length) return root;
      if (!this.misc(false)) this.fail('text after the root element');
    }
  }

  private element(): XmlElement {
    const line = this.line;
    const col = this.i - this.lineStart + 1;
    this.advanceTo(this.i + 1);
    const name = this.name();
    const attrs = new Map<string, string>();
    for (;;) {
      const before = this.i;
      this.skipSpace();
      if (this.starts('/>')) {
        this.advanceTo(this.i + 2);
        return { name, attrs, line, col, children: [] };
      }
      if (this.starts('>')) {
        this.advanceTo(this.i + 1);
        break;
      }
      if (this.i === before) this.fail(`expected an attribute, '>' or '/>' in <${name}>`);
      const attrAt = this.i;
      const an = this.name();
      this.skipSpace();
      if (!this.starts('=')) this.fail(`attribute '${an}' of <${name}> has no value`);
      this.advanceTo(this.i + 1);
      this.skipSpace();
      const q = this.s[this.i];
      if (q !== '"' && q !== "'") this.fail(`the value of '${an}' must be quoted`);
      this.advanceTo(this.i + 1);
      const valueAt = this.i;
      const raw = this.until(q, `the value of '${an}'`);
      if (raw.includes('<')) this.fail(`'<' inside the value of '${an}'`, valueAt);
      if (attrs.has(an)) this.fail(`attribute '${an}' given twice`, attrAt);
      // Attribute-value normalization (XML 1.0 §3.3.3): literal whitespace characters become spaces.
      attrs.set(an, this.decode(raw.replace(/[\t\r\n]/g, ' '), valueAt));
    }
    const children: XmlNode[] = [];
    for (;;) {
      if (this.i >= this.s.length) this.fail(`<${name}> (line ${line}) is never closed`);
      if (this.starts('</')) {
        const at = this.i;
        this.advanceTo(this.i + 2);
        const end = this.name();
        if (end !== name) this.fail(`</${end}> closes <${name}> opened on line ${line}`, at);
        this.skipSpace();
        if (!this.starts('>')) this.fail(`expected '>' after </${end}`);
        this.advanceTo(this.i + 1);
        return { name, attrs, line, col, children };
      }
      if (this.starts('<![CDATA[')) {
        const tl = this.line;
        this.advanceTo(this.i + 9);
        children.push({ text: this.until(']]>', 'a CDATA section'), cdata: true, line: tl });
        continue;
      }
      if (this.misc(false)) continue;
      if (this.starts('<')) {
        children.push(this.element());
        continue;
      }
      const tl = this.line;
      const at = this.i;
      let j = this.s.indexOf('<', this.i);
      if (j < 0) j = this.s.length;
      const raw = this.s.slice(this.i, j);
      if (raw.includes(']]>')) this.fail(`']]>' in text`, at + raw.indexOf(']]>'));
      this.advanceTo(j);
      children.push({ text: this.decode(raw, at), cdata: false, line: tl });
    }
  }
}

/** Parses an XML document; an XmlError says what and where (line:col). */
export function parseXml(text: string): XmlElement {
  return new Reader(text.replace(/\r\n?/g, '\n')).document();
}

export function isElement(n: XmlNode): n is XmlElement {
  return 'name' in n;
}

/** The text and CDATA content of an element, joined. */
export function textOf(e: XmlElement): string {
  return e.children.map((c) => (isElement(c) ? '' : c.text)).join('');
}
