// Presence documents: PIDF (RFC 3863) read from PUBLISH bodies and composed
// for NOTIFY bodies (RFC 3903 §4: the state of a presentity is every tuple,
// note and extension element of each of its live publications, passed through
// byte for byte), the server's own document for a presentity nobody published
// for, and the basic status read back from a PUBLISH or SERVICE body (PIDF, or
// the looser OCS-style documents that only say available/busy/open/closed).
//
// The reader is a small scanner, not a validating XML parser: it finds the
// root <presence> element, the namespaces it declares and its child elements,
// and refuses what it cannot read with certainty (a DOCTYPE, whose entities
// could expand without bound, or tags that do not balance).

export type BasicStatus = 'open' | 'closed';

export const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';

/** What a published PIDF document contributes to the composed state. */
export interface PidfDocument {
  /** The namespace declarations of its root element: prefix ('' for the default) to URI. */
  namespaces: Map<string, string>;
  /** Each child element of the root (tuple, note, person, device, ...), as published, byte for byte. */
  children: string[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function buildPidf(entity: string, status: BasicStatus, note?: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\r\n` +
    `<presence xmlns="${PIDF_NS}" entity="${esc(entity)}">\r\n` +
    `  <tuple id="t1"><status><basic>${status}</basic></status>${note ? `<note>${esc(note)}</note>` : ''}</tuple>\r\n` +
    `</presence>\r\n`
  );
}

/**
 * One document for a presentity from the documents of its live publications, oldest first (RFC 3903 §4:
 * the compositor's policy; ours keeps everything each one published). A child keeps its bytes; the root's
 * namespace declarations it relied on are declared on the new root, or on the child itself when another
 * publication binds the same prefix to another namespace.
 */
export function composePidf(entity: string, docs: PidfDocument[]): string {
  const rootNs = new Map<string, string>([['', PIDF_NS]]);
  for (const d of docs) {
    for (const [prefix, uri] of d.namespaces) if (prefix !== '' && !rootNs.has(prefix)) rootNs.set(prefix, uri);
  }
  const decls = [...rootNs].map(([p, uri]) => `${p ? `xmlns:${p}` : 'xmlns'}="${esc(uri)}"`).join(' ');
  let out = `<?xml version="1.0" encoding="UTF-8"?>\r\n<presence ${decls} entity="${esc(entity)}">\r\n`;
  for (const d of docs) {
    // A document without a default namespace meant PIDF's (the root is <presence>): its children inherit ours.
    const differing = [...d.namespaces].filter(([p, uri]) => rootNs.get(p) !== uri);
    for (const child of d.children) out += `  ${differing.length ? declareOn(child, differing) : child}\r\n`;
  }
  return out + '</presence>\r\n';
}

/** The element with namespace declarations added to its start tag (those it does not make itself). */
function declareOn(element: string, ns: [string, string][]): string {
  const nameEnd = /^<[^\s/>]+/.exec(element)![0].length;
  const tagEnd = tagEndAt(element, 0);
  const startTag = element.slice(0, tagEnd);
  const add = ns
    .filter(([p]) => !new RegExp(`\\s${p ? `xmlns:${p.replace(/[.-]/g, '\\$&')}` : 'xmlns'}\\s*=`).test(startTag))
    .map(([p, uri]) => ` ${p ? `xmlns:${p}` : 'xmlns'}="${esc(uri)}"`)
    .join('');
  return element.slice(0, nameEnd) + add + element.slice(nameEnd);
}

/** Index just past the '>' of the tag that starts at `i`, quotes respected; -1 when it does not end. */
function tagEndAt(s: string, i: number): number {
  let quote = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return j + 1;
  }
  return -1;
}

interface Markup {
  kind: 'open' | 'close' | 'empty' | 'other';
  name: string;
  end: number;
}

/** The markup at `i` (s[i] is '<'), or undefined when it does not end or is a DOCTYPE. */
function markupAt(s: string, i: number): Markup | undefined {
  const skip = (open: string, close: string): Markup | undefined => {
    const e = s.indexOf(close, i + open.length);
    return e < 0 ? undefined : { kind: 'other', name: '', end: e + close.length };
  };
  if (s.startsWith('<!--', i)) return skip('<!--', '-->');
  if (s.startsWith('<![CDATA[', i)) return skip('<![CDATA[', ']]>');
  if (s.startsWith('<?', i)) return skip('<?', '?>');
  if (s.startsWith('<!', i)) return undefined; // DOCTYPE: refused
  const end = tagEndAt(s, i);
  if (end < 0) return undefined;
  const closing = s[i + 1] === '/';
  const name = /^[^\s/>]+/.exec(s.slice(i + (closing ? 2 : 1), end))?.[0];
  if (!name) return undefined;
  return { kind: closing ? 'close' : s[end - 2] === '/' ? 'empty' : 'open', name, end };
}

/** The root <presence> of a PIDF document, its namespaces and its children; undefined when the body is no such document. */
export function readPidf(body: string): PidfDocument | undefined {
  let i = 0;
  let root: Markup | undefined;
  let rootStart = 0;
  // The prolog: an XML declaration, comments, processing instructions, whitespace.
  for (;;) {
    i = body.indexOf('<', i);
    if (i < 0) return undefined;
    const m = markupAt(body, i);
    if (!m) return undefined;
    if (m.kind === 'other') {
      i = m.end;
      continue;
    }
    if (m.kind === 'close') return undefined;
    root = m;
    rootStart = i;
    break;
  }
  if (root.name.replace(/^[^:]*:/, '') !== 'presence') return undefined;
  const namespaces = new Map<string, string>();
  const startTag = body.slice(rootStart, root.end);
  for (const a of startTag.matchAll(/\sxmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) namespaces.set(a[1] ?? '', a[2] ?? a[3] ?? '');
  const rootPrefix = root.name.includes(':') ? root.name.slice(0, root.name.indexOf(':')) : '';
  const rootNs = namespaces.get(rootPrefix);
  if (rootNs !== undefined && rootNs !== PIDF_NS) return undefined;
  if (rootNs === undefined && rootPrefix !== '') return undefined;
  const children: string[] = [];
  if (root.kind === 'empty') return { namespaces, children };
  i = root.end;
  let depth = 0;
  let childStart = -1;
  for (;;) {
    i = body.indexOf('<', i);
    if (i < 0) return undefined; // the root never closes
    const m = markupAt(body, i);
    if (!m) return undefined;
    if (m.kind === 'open') {
      if (depth === 0) childStart = i;
      depth++;
    } else if (m.kind === 'empty') {
      if (depth === 0) children.push(body.slice(i, m.end));
    } else if (m.kind === 'close') {
      if (depth === 0) return m.name === root.name ? { namespaces, children } : undefined;
      depth--;
      if (depth === 0) children.push(body.slice(childStart, m.end));
    }
    i = m.end;
  }
}

/** The basic status a body states, or undefined when it states none. */
export function readBasicStatus(body: string): BasicStatus | undefined {
  const basic = /<(?:\w+:)?basic>\s*(open|closed)\s*</i.exec(body);
  if (basic) return basic[1]!.toLowerCase() as BasicStatus;
  if (/\b(available|online|open)\b/i.test(body)) return 'open';
  if (/\b(busy|away|offline|closed|unavailable)\b/i.test(body)) return 'closed';
  return undefined;
}
