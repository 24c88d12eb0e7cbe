// Passwords given as a pattern (--password 'secret{n}') are not known up
// front, one by one, as the redaction's list wants them: in a capture, where
// a message is not tied to its UA, any text the pattern could make is masked.

/** A matcher of every password `pattern` can make ('secret{n}' -> secret followed by digits), or undefined without {n}. */
export function passwordPatternMask(pattern: string): RegExp | undefined {
  if (!pattern.includes('{n')) return undefined;
  const parts = pattern.split(/\{n(?:[+-]\d+)?(?::0\d+)?\}/);
  if (parts.join('').length < 3) return undefined; // '{n}' alone would mask every number
  return new RegExp(parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('-?\\d+'), 'g');
}

/**
 * Masks every occurrence of the known passwords in one pass over the text, however many there are: a users CSV of
 * 100,000 accounts must not cost 100,000 searches per captured message (the reports' redaction does one search per
 * password, for the 20 ladders they keep). Candidates are found by their first three characters (passwords under
 * three are not masked, as in the reports), longest first at a position.
 */
export function secretsMask(secrets: string[]): (text: string) => string {
  const byPrefix = new Map<number, string[]>();
  const key = (s: string, i: number) => (s.charCodeAt(i) * 65536 + s.charCodeAt(i + 1) * 256 + s.charCodeAt(i + 2)) | 0;
  for (const s of new Set(secrets)) {
    if (s.length < 3) continue;
    const k = key(s, 0);
    const list = byPrefix.get(k);
    if (list) list.push(s);
    else byPrefix.set(k, [s]);
  }
  for (const list of byPrefix.values()) list.sort((a, b) => b.length - a.length);
  if (byPrefix.size === 0) return (text) => text;
  return (text) => {
    let out = '';
    let from = 0;
    for (let i = 0; i + 3 <= text.length; i++) {
      const list = byPrefix.get(key(text, i));
      if (!list) continue;
      const hit = list.find((s) => text.startsWith(s, i));
      if (!hit) continue;
      out += text.slice(from, i) + '***';
      i += hit.length - 1;
      from = i + 1;
    }
    return from === 0 ? text : out + text.slice(from);
  };
}
