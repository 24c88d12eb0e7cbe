// Checking what came back against what a step expects: the code against code
// ranges, headers present/absent/matching, body containing text; captures of
// variables from headers and bodies. Expectations that name variables are
// filled in for the UA checking (values escaped inside regular expressions).

import type { SipMessage } from '../codec/index.js';
import { escapeRegex, renderTemplate, type Capture, type CodeRanges, type Expectation, type TemplateVars } from '../scenario/index.js';

export function codeMatches(ranges: CodeRanges, status: number): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

/**
 * undefined when the message meets the expectation, else why not (without the code part). `vars` fills in the
 * expectation's variables; a regular expression made that way is compiled for this check only (values differ per
 * UA: caching them would grow without bound).
 */
export function checkContent(exp: Expectation, msg: SipMessage, regexCache: Map<string, RegExp>, vars?: TemplateVars): string | undefined {
  for (const h of exp.headers) {
    const values = msg.getAll(h.name);
    if (h.mode === 'exists' && values.length === 0) return `header ${h.name} missing`;
    if (h.mode === 'absent' && values.length > 0) return `header ${h.name} present`;
    if (h.mode === 'regex') {
      let source = h.regex!;
      let re: RegExp | undefined;
      if (h.regexTemplate && vars) re = new RegExp((source = renderTemplate(h.regexTemplate, vars, escapeRegex)));
      else if (!(re = regexCache.get(source))) regexCache.set(source, (re = new RegExp(source)));
      if (values.length === 0) return `header ${h.name} missing`;
      if (!values.some((v) => re!.test(v))) return `header ${h.name} '${values[0]!.slice(0, 60)}' does not match /${source}/`;
    }
  }
  if (exp.body !== undefined) {
    const want = exp.bodyTemplate && vars ? renderTemplate(exp.bodyTemplate, vars) : exp.body;
    if (!msg.body.toString('utf8').includes(want)) return `body does not contain '${want.slice(0, 40)}'`;
  }
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
