// Runs the catalog on messages and counts the outcome per check, keeping a
// few example messages of each failure for the reports.

import type { SipMessage } from '../codec/index.js';
import { INVITE_ANSWER_MS, REQUEST_CHECKS, RESPONSE_CHECKS } from './catalog.js';

export interface CheckCounts {
  passed: number;
  failed: number;
  examples: string[];
}

const MAX_EXAMPLES = 3;

export class ConformanceChecker {
  readonly counts: Record<string, CheckCounts> = {};

  constructor(
    private readonly redact: (text: string) => string = (t) => t,
    /** Off only to measure what the checks cost (`sipstorm run --no-checks`). */
    readonly enabled = true,
  ) {}

  private count(id: string, problem: string | undefined, msg: SipMessage): void {
    const c = (this.counts[id] ??= { passed: 0, failed: 0, examples: [] });
    if (problem === undefined) {
      c.passed++;
      return;
    }
    c.failed++;
    if (c.examples.length < MAX_EXAMPLES) {
      const first = msg.isRequest ? `${msg.method} ${msg.uri}` : `SIP/2.0 ${msg.status} ${msg.reason}`;
      c.examples.push(this.redact(`${problem} — in: ${first} (Call-ID ${msg.get('Call-ID') ?? '?'})`));
    }
  }

  response(req: SipMessage, res: SipMessage): void {
    if (!this.enabled) return;
    for (const check of RESPONSE_CHECKS) {
      const r = check.run(req, res);
      if (r !== null) this.count(check.id, r, res);
    }
  }

  /** The first response to an INVITE sent once (not retransmitted), `elapsedMs` after sending it. */
  firstInviteResponse(res: SipMessage, elapsedMs: number): void {
    if (!this.enabled) return;
    const late = elapsedMs > INVITE_ANSWER_MS ? `first response ${res.status} after ${Math.round(elapsedMs)} ms` : undefined;
    this.count('timing.invite-100-trying', late, res);
  }

  request(req: SipMessage): void {
    if (!this.enabled) return;
    for (const check of REQUEST_CHECKS) {
      const r = check.run(req);
      if (r !== null) this.count(check.id, r, req);
    }
  }
}

/** Adds counts of two workers or shards. */
export function mergeCheckCounts(a: Record<string, CheckCounts>, b: Record<string, CheckCounts>): Record<string, CheckCounts> {
  const out: Record<string, CheckCounts> = {};
  for (const [id, c] of [...Object.entries(a), ...Object.entries(b)]) {
    const o = (out[id] ??= { passed: 0, failed: 0, examples: [] });
    o.passed += c.passed;
    o.failed += c.failed;
    o.examples = [...o.examples, ...c.examples].slice(0, MAX_EXAMPLES);
  }
  return out;
}
