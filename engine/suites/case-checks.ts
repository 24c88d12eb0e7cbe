// A suite step's header requirements, matches and captures, judged on a
// message outside a case being played (the core judges them the same way in
// engine/ua/case-checks.ts while it plays one), and a case's variables as
// template values. Codes are judged by engine/ua/expect.ts, the one
// expectation of scenarios and suites.

import type { SipMessage } from '../codec/index.js';
import type { TemplateVars } from '../scenario/index.js';
import { caseProblem } from '../ua/case-checks.js';
import type { SuiteStep } from './load.js';

/** Why `msg` does not meet the step's header requirements, or undefined; captures go into `vars`. */
export function inspect(step: SuiteStep, msg: SipMessage, vars: Record<string, string>): string | undefined {
  return caseProblem(step, msg, new CaseVars(vars), (name, value) => (vars[name] = value));
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
