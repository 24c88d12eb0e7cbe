// The ladder of a failed instance or conformance case as the result holds it
// (schemas/result.schema.json `failures[].ladder`): each message's time to the
// microsecond, direction, both ends, first line and text, with the digest
// secrets masked (redact.ts). One shape for load runs and suites.

import type { LadderEntry } from '../metrics/index.js';
import { redact } from './redact.js';

export interface LadderMessage {
  /** Milliseconds since the instance or case began. */
  t: number;
  dir: 'sent' | 'received';
  data: Buffer;
}

/** `secrets`: the passwords to mask along with every digest response; undefined when the messages are masked already. */
export function ladderEntries(messages: LadderMessage[], local: string, remote: string, secrets: string[] | undefined): LadderEntry[] {
  return messages.map((l) => {
    const text = l.data.toString('utf8');
    const raw = secrets ? redact(text, secrets) : text;
    return { t: Math.round(l.t * 1000) / 1000, dir: l.dir, local, remote, firstLine: raw.slice(0, raw.indexOf('\r\n') >>> 0), raw };
  });
}
