// One interned, case-insensitive table of header names, compact forms included
// (RFC 3261 §7.3.3 and the extensions that define one), and the set of headers
// whose values are comma-separated lists (RFC 3261 §7.3.1).

const CANONICAL = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
  'Event', 'Expires', 'From', 'Identity', 'Identity-Info', 'In-Reply-To', 'Max-Forwards', 'Min-Expires',
  'MIME-Version', 'Organization', 'P-Asserted-Identity', 'Path', 'Priority', 'Proxy-Authenticate',
  'Proxy-Authorization', 'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By',
  'Reject-Contact', 'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq',
  'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag', 'SIP-If-Match', 'Subject', 'Subscription-State',
  'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
  'Min-SE', 'Replaces', 'Privacy',
];

const COMPACT: Record<string, string> = {
  v: 'Via', f: 'From', t: 'To', i: 'Call-ID', m: 'Contact', l: 'Content-Length', c: 'Content-Type',
  k: 'Supported', s: 'Subject', e: 'Content-Encoding', o: 'Event', u: 'Allow-Events', r: 'Refer-To',
  b: 'Referred-By', x: 'Session-Expires', a: 'Accept-Contact', j: 'Reject-Contact', d: 'Request-Disposition',
  y: 'Identity', n: 'Identity-Info',
};

const CANONICAL_SET = new Set(CANONICAL);
const TABLE = new Map<string, string>();
for (const name of CANONICAL) TABLE.set(name.toLowerCase(), name);
for (const [short, long] of Object.entries(COMPACT)) TABLE.set(short, long);

/** 'v' -> 'Via', 'call-id' -> 'Call-ID'; unknown names are kept as written. */
export function canonicalHeaderName(name: string): string {
  // Most lookups already use the canonical spelling (msg.get('Call-ID')): no lower-casing, no new string.
  if (CANONICAL_SET.has(name)) return name;
  return TABLE.get(name.toLowerCase()) ?? name;
}

const COMPACT_OF = new Map<string, number>();
for (const [short, long] of Object.entries(COMPACT)) COMPACT_OF.set(long, short.charCodeAt(0));

/**
 * How a header line's name bytes are matched against a canonical name without making its string (scanned-message.ts):
 * a name of the table matches its spelling in any case and its compact letter (0: it has none); any other is kept as
 * written by canonicalHeaderName, so only those very bytes match it.
 */
export function isTableName(canonical: string): boolean {
  return CANONICAL_SET.has(canonical);
}

export function compactLetter(canonical: string): number {
  return COMPACT_OF.get(canonical) ?? 0;
}

const LIST_HEADERS = new Set([
  'Via', 'Route', 'Record-Route', 'Contact', 'Allow', 'Supported', 'Require', 'Proxy-Require', 'Unsupported',
  'Accept', 'Accept-Encoding', 'Accept-Language', 'Allow-Events', 'Path', 'Service-Route', 'Content-Encoding',
  'Content-Language', 'In-Reply-To', 'Alert-Info', 'Call-Info', 'Error-Info', 'Warning', 'P-Asserted-Identity',
  'Reason', 'Accept-Contact', 'Reject-Contact', 'Request-Disposition', 'Privacy',
]);

/** Headers that RFC 3261 allows to carry a comma-separated list of values. */
export function isListHeader(canonical: string): boolean {
  return LIST_HEADERS.has(canonical);
}

/** Headers that may appear only once in a message (RFC 3261 §7.3, §20). */
export const SINGLE_HEADERS = ['To', 'From', 'Call-ID', 'CSeq', 'Content-Length', 'Max-Forwards', 'Content-Type', 'Expires'];
