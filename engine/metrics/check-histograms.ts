// A saved result read back (`sipstorm merge`, `sipstorm report`) may have
// been cut, edited or corrupted: every encoded histogram in it is decoded once
// up front, so a bad one is named by its JSON path (bad input, exit 2) instead
// of failing deep inside a merge with zlib's words and no file.

import { decodeHistogram } from './histogram.js';

export interface BadHistogram {
  /** JSON Pointer (RFC 6901) of the field, e.g. /scenarios/0/roles/0/steps/1/service/histogram. */
  path: string;
  reason: string;
}

/** The first `histogram` field anywhere in `value` that does not decode, or undefined when all do. */
export function findBadHistogram(value: unknown, path = ''): BadHistogram | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadHistogram(value[i], `${path}/${i}`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, v] of Object.entries(value)) {
    const at = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (key === 'histogram') {
      if (typeof v !== 'string') return { path: at, reason: 'not a string' };
      try {
        decodeHistogram(v);
      } catch (err) {
        return { path: at, reason: `not a valid HDR histogram (${String((err as Error)?.message ?? err).split('\n')[0]})` };
      }
      continue;
    }
    const bad = findBadHistogram(v, at);
    if (bad) return bad;
  }
  return undefined;
}
