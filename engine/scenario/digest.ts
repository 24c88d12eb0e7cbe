// The scenario digest: one hash of what the shards of one run must share (the
// compiled scenarios and the load flags), recorded in every result so that
// `sipstorm merge` can refuse to add up shards of different scenarios. Paths
// are reduced to their file names (shards run from different checkouts or
// container paths); a CSV of users is hashed by its content.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** Object keys whose values are paths: their directories are not part of the digest. */
const PATH_KEYS = new Set(['file', 'csv', 'usersCsv']);

function canonical(value: unknown, key?: string): unknown {
  if (typeof value === 'string' && key && PATH_KEYS.has(key)) return fileIdentity(value);
  if (Array.isArray(value)) return value.map((v) => canonical(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // Sorted keys: the digest of equal data never depends on the order it was built in.
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v, k);
    }
    return out;
  }
  return value;
}

function fileIdentity(path: string): string {
  if (!path.endsWith('.csv')) return basename(path);
  try {
    return `${basename(path)}#${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  } catch {
    return basename(path); // unreadable here: loading the scenario reports it
  }
}

/** `sha256:<hex>` of the compiled scenarios and the settings that shape their load (e.g. rate, total, users). */
export function scenarioDigest(scenarios: readonly unknown[], loadSettings: Record<string, unknown> = {}): string {
  const text = JSON.stringify(canonical({ scenarios, load: loadSettings }));
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
