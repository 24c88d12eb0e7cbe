// Checking what came back against what a step expects: the code against code
// ranges, headers present/absent/matching, body containing text; captures of
// variables from headers and bodies.

import type { SipMessage } from '../codec/index.js';
import type { Capture, CodeRanges, Expectation } from '../scenario/index.js';

export function codeMatches(ranges: CodeRanges, status: number): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

/** undefined when the message meets the expectation, else why not (without the code part). */
export function checkContent(exp: Expectation, msg: SipMessage, regexCache: Map<string, RegExp>): string | undefined {
  for (const h of exp.headers) {
    const values = msg.getAll(h.name);
    if (h.mode === 'exists' && values.length === 0) return `header ${h.name} missing`;
    if (h.mode === 'absent' && values.length > 0) return `header ${h.name} present`;
    if (h.mode === 'regex') {
      let re = regexCache.get(h.regex!);
      if (!re) regexCache.set(h.regex!, (re = new RegExp(h.regex!)));
      if (values.length === 0) return `header ${h.name} missing`;
      if (!values.some((v) => re!.test(v))) return `header ${h.name} '${values[0]!.slice(0, 60)}' does not match /${h.regex}/`;
    }
  }
  if (exp.body !== undefined && !msg.body.toString('utf8').includes(exp.body)) return `body does not contain '${exp.body.slice(0, 40)}'`;
  return undefined;
}

export function applyCaptures(captures: Capture[], msg: SipMessage, vars: Map<string, string>, regexCache: Map<string, RegExp>): string | undefined {
  for (const c of captures) {
    const source = c.header !== undefined ? msg.getAll(c.header).join(', ') : msg.body.toString('utf8');
    if (c.header !== undefined && msg.getAll(c.header).length === 0) return `capture '${c.name}': header ${c.header} missing`;
    if (c.regex === undefined) {
      vars.set(c.name, source);
      continue;
    }
    let re = regexCache.get(c.regex);
    if (!re) regexCache.set(c.regex, (re = new RegExp(c.regex)));
    const m = re.exec(source);
    if (!m) return `capture '${c.name}': /${c.regex}/ does not match`;
    vars.set(c.name, m[1] ?? m[0]);
  }
  return undefined;
}

export function describeCodes(exp: Expectation): string {
  return exp.text;
}
