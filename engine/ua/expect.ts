// Checking what came back against what a step expects: the code against code
// ranges, headers present/absent/matching, body containing text; captures of
// variables from headers and bodies. Expectations that name variables are
// filled in for the UA checking (values escaped inside regular expressions).
// Patterns run on the linear-time matcher (scenario/safe-regex.ts): a
// server's text cannot make a check run long. The one expectation of a final
// code for scenarios and conformance cases alike: a case writes it the way
// the RFC text reads (`400`, `2xx`, `405|501`, `400|drop` for an answer of
// 400 or none, `!400`, `drop`, `any`), parsed here into the same Expectation.

import { serializeMessage, type SipMessage } from '../codec/index.js';
import { SipstormError } from '../errors.js';
import { escapeRegex, renderTemplate, type TemplateVars } from '../scenario/template.js';
import { compileSafeRegex, type SafeRegex } from '../scenario/safe-regex.js';
import type { Capture, CodeRanges, Expectation } from '../scenario/types.js';

/**
 * Why a message does not meet a step: `kind` holds no text of the peer's (it keys the failure
 * counts, so a server varying its values cannot grow them), `text` says it in full.
 */
export interface Problem {
  kind: string;
  text: string;
}

export function codeMatches(ranges: CodeRanges, status: number): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

export class ExpectationError extends SipstormError {
  constructor(message: string) {
    super('SUITE_BAD_EXPECTATION', message);
  }
}

/** A conformance case's expectation text (`400|drop`, `!400`, `2xx|401`, `any`): codes only, no header checks. */
export function parseExpectation(text: string): Expectation {
  const e: Expectation = { text, codes: [], headers: [], drop: false, any: false, except: [] };
  for (const raw of text.split('|')) {
    const part = raw.trim();
    let m: RegExpExecArray | null;
    if (part === 'drop') e.drop = true;
    else if (part === 'any') e.any = true;
    else if ((m = /^!([1-6]\d\d)$/.exec(part))) e.except!.push(Number(m[1]));
    else if ((m = /^([1-6])xx$/.exec(part))) e.codes.push([Number(m[1]) * 100, Number(m[1]) * 100 + 99]);
    else if ((m = /^([1-6]\d\d)$/.exec(part))) e.codes.push([Number(m[1]), Number(m[1])]);
    else throw new ExpectationError(`'${text}': '${part}' is not a code, a class like 4xx, !CODE, drop or any`);
  }
  return e;
}

/** Why the final code does not meet the expectation, or undefined when it does. `status` undefined: no final answer. */
export function judge(e: Expectation, status: number | undefined): string | undefined {
  if (e.any) return undefined;
  if (status === undefined) return e.drop ? undefined : `expected ${e.text}, got no answer`;
  if (e.except?.length && !e.except.includes(status)) return undefined;
  if (codeMatches(e.codes, status)) return undefined;
  return `expected ${e.text}, got ${status}`;
}

/** Compiled patterns by source; bounded, should a source ever vary per instance. */
const MAX_CACHED_PATTERNS = 1000;

function regexOf(cache: Map<string, SafeRegex>, source: string): SafeRegex {
  let re = cache.get(source);
  if (!re) {
    if (cache.size >= MAX_CACHED_PATTERNS) cache.clear();
    cache.set(source, (re = compileSafeRegex(source)));
  }
  return re;
}

/**
 * undefined when the message meets the expectation, else why not (without the code part). `vars` fills in the
 * expectation's variables; a regular expression made that way is compiled for this check only (values differ per
 * UA: caching them would grow without bound).
 */
export function checkContent(exp: Expectation, msg: SipMessage, regexCache: Map<string, SafeRegex>, vars?: TemplateVars): Problem | undefined {
  for (const h of exp.headers) {
    const values = msg.getAll(h.name);
    if (h.mode === 'exists' && values.length === 0) return same(`header ${h.name} missing`);
    if (h.mode === 'absent' && values.length > 0) return same(`header ${h.name} present`);
    if (h.mode === 'regex') {
      let source = h.regex!;
      const re = h.regexTemplate && vars ? compileSafeRegex((source = renderTemplate(h.regexTemplate, vars, escapeRegex))) : regexOf(regexCache, source);
      if (values.length === 0) return same(`header ${h.name} missing`);
      const long = values.find((v) => !re.fits(v));
      if (long !== undefined) return { kind: `header ${h.name} too long to match against /${h.regex}/`, text: `header ${h.name} too long (${long.length} characters) to match against /${source}/` };
      if (!values.some((v) => re.test(v))) return { kind: `header ${h.name} does not match /${h.regex}/`, text: `header ${h.name} '${values[0]!.slice(0, 60)}' does not match /${source}/` };
    }
  }
  if (exp.body !== undefined) {
    const want = exp.bodyTemplate && vars ? renderTemplate(exp.bodyTemplate, vars) : exp.body;
    if (!msg.body.toString('utf8').includes(want)) return { kind: `body does not contain '${exp.body.slice(0, 40)}'`, text: `body does not contain '${want.slice(0, 40)}'` };
  }
  return undefined;
}

export function applyCaptures(captures: Capture[], msg: SipMessage, vars: Map<string, string>, regexCache: Map<string, SafeRegex>): Problem | undefined {
  for (const c of captures) {
    const source = c.header !== undefined ? msg.getAll(c.header).join(', ') : c.message ? (msg.raw ?? serializeMessage(msg)).toString('utf8') : msg.body.toString('utf8');
    if (c.header !== undefined && msg.getAll(c.header).length === 0) {
      if (c.optional) continue;
      return same(`capture '${c.name}': header ${c.header} missing`);
    }
    if (c.regex === undefined) {
      vars.set(c.name, source);
      continue;
    }
    const re = regexOf(regexCache, c.regex);
    if (!re.fits(source)) return same(`capture '${c.name}': ${c.header ?? 'body'} too long (${source.length} characters) to match against /${c.regex}/`);
    const m = re.exec(source);
    if (!m) {
      if (c.optional) continue;
      return same(`capture '${c.name}': /${c.regex}/ does not match`);
    }
    vars.set(c.name, (c.group !== undefined ? m[c.group] : (m[1] ?? m[0])) ?? '');
  }
  return undefined;
}

function same(text: string): Problem {
  return { kind: text, text };
}

