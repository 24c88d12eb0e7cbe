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
