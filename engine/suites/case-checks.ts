// What a suite step requires of an answer or of a request the server sent:
// headers present (per status, `headers`), header values matching or not
// (`match`, `absent`: patterns with ${...} filled in and escaped, on the
// linear-time matcher), then the captures for later steps. Codes are judged
// by engine/ua/expect.ts, the one expectation of scenarios and suites.

import type { SipMessage } from '../codec/index.js';
import { compileSafeRegex, escapeRegex, renderTemplate, type TemplateVars } from '../scenario/index.js';
import { judge } from '../ua/expect.js';
import type { SuiteStep } from './load.js';

/** Why `msg` does not meet the step's header requirements, or undefined; captures go into `vars`. */
export function inspect(step: SuiteStep, msg: SipMessage, vars: Record<string, string>): string | undefined {
  const what = msg.isRequest ? `the ${msg.method}` : `the ${msg.status} answer`;
  for (const rule of step.headers) {
    if (rule.when && judge(rule.when, msg.isRequest ? undefined : msg.status) !== undefined) continue;
    if (!rule.when && !msg.isRequest && msg.status < 200) continue;
    const missing = rule.names.filter((h) => msg.get(h) === undefined);
    if (missing.length) return `${what} has no ${missing.join(', ')} header`;
  }
  const values = new CaseVars(vars);
  for (const m of step.match) {
    const source = renderTemplate(m.template, values, escapeRegex);
    const pattern = compileSafeRegex(source, true);
    // A value too long for the pattern (MAX_WORK) is judged on its start.
    const texts = msg.getAll(m.header).map((v) => v.slice(0, pattern.longestText));
    const hit = texts.some((v) => pattern.test(v));
    if (hit && m.absent) return `${what} has ${m.header} matching /${source}/: ${texts.join(', ')}`;
    if (!hit && !m.absent) return `${what} has no ${m.header} matching /${source}/${texts.length ? ` (it has: ${texts.join(', ')})` : ''}`;
  }
  for (const [name, spec] of step.capture) {
    const value = captureValue(msg, spec);
    if (value === undefined) return `${what} has nothing to take for \${${name}} (${spec})`;
    vars[name] = value;
  }
  return undefined;
}

/**
 * A case's variables as template values (engine/scenario/template.ts, the one template syntax). A name the case
 * does not have stays as written; so does `${length}`, filled in once the rest of the message is (the body's size).
 */
export class CaseVars implements TemplateVars {
  constructor(private readonly vars: Record<string, string>) {}

  lookup(name: string): string {
    return name !== 'length' && Object.hasOwn(this.vars, name) ? this.vars[name]! : `\${${name}}`;
  }
}

/** `Header` (its first value), `Header;param` (a parameter of it) or `Header<uri>` (the URI between its angle brackets). */
function captureValue(msg: SipMessage, spec: string): string | undefined {
  const m = /^([\w-]+)(?:;([\w-]+)|<(uri)>)?$/.exec(spec.trim());
  if (!m) return undefined;
  const first = msg.get(m[1]!)?.trim();
  if (first === undefined) return undefined;
  if (m[2]) return new RegExp(`;\\s*${m[2]}\\s*=\\s*"?([^";,\\s>]+)`, 'i').exec(first)?.[1];
  if (m[3]) return /<([^>]*)>/.exec(first)?.[1] ?? first.split(';')[0];
  return first;
}
