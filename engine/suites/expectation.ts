// What a conformance case accepts as the server's answer, written the way the
// RFC text reads: `400`, `2xx`, `405|501`, `400|drop` (an answer of 400 or no
// answer at all), `!400` (any final answer but 400), `drop` (no answer), `any`.

import { SipstormError } from '../errors.js';

export interface Expectation {
  text: string;
  /** No final answer is acceptable. */
  drop: boolean;
  /** Any outcome is acceptable (the RFC leaves the choice to the server). */
  any: boolean;
  /** Acceptable final codes, as [low, high] ranges; empty with `except` set means "any answer". */
  ranges: [number, number][];
  /** `!CODE`: any final answer except these. */
  except: number[];
}

export class ExpectationError extends SipstormError {
  constructor(message: string) {
    super('SUITE_BAD_EXPECTATION', message);
  }
}

export function parseExpectation(text: string): Expectation {
  const e: Expectation = { text, drop: false, any: false, ranges: [], except: [] };
  for (const raw of text.split('|')) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if (part === 'drop') e.drop = true;
    else if (part === 'any') e.any = true;
    else if ((m = /^!([1-6]\d\d)$/.exec(part))) e.except.push(Number(m[1]));
    else if ((m = /^([1-6])xx$/.exec(part))) e.ranges.push([Number(m[1]) * 100, Number(m[1]) * 100 + 99]);
    else if ((m = /^([1-6]\d\d)$/.exec(part))) e.ranges.push([Number(m[1]), Number(m[1])]);
    else throw new ExpectationError(`'${text}': '${part}' is not a code, a class like 4xx, !CODE, drop or any`);
  }
  return e;
}

/** Why the outcome does not meet the expectation, or undefined when it does. `status` undefined: no final answer. */
export function judge(e: Expectation, status: number | undefined): string | undefined {
  if (e.any) return undefined;
  if (status === undefined) return e.drop ? undefined : `expected ${e.text}, got no answer`;
  if (e.except.length && !e.except.includes(status)) return undefined;
  if (e.ranges.some(([lo, hi]) => status >= lo && status <= hi)) return undefined;
  return `expected ${e.text}, got ${status}`;
}
