// Presence documents: PIDF (RFC 3863) built for NOTIFY bodies, and the basic
// status read back from a PUBLISH or SERVICE body (PIDF, or the looser
// OCS-style documents that only say available/busy/open/closed).

export type BasicStatus = 'open' | 'closed';

export function buildPidf(entity: string, status: BasicStatus, note?: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\r\n` +
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${esc(entity)}">\r\n` +
    `  <tuple id="t1"><status><basic>${status}</basic></status>${note ? `<note>${esc(note)}</note>` : ''}</tuple>\r\n` +
    `</presence>\r\n`
  );
}

/** The basic status a body states, or undefined when it states none. */
export function readBasicStatus(body: string): BasicStatus | undefined {
  const basic = /<(?:\w+:)?basic>\s*(open|closed)\s*</i.exec(body);
  if (basic) return basic[1]!.toLowerCase() as BasicStatus;
  if (/\b(available|online|open)\b/i.test(body)) return 'open';
  if (/\b(busy|away|offline|closed|unavailable)\b/i.test(body)) return 'closed';
  return undefined;
}
