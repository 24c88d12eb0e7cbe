// Errors in scenario files: one line a person understands, pointing at the
// file, line and column ("scenarios/x.yaml:12:7: step 3 'expect' must be ...").

import { SipstormError } from '../errors.js';

export class ScenarioError extends SipstormError {
  constructor(
    code: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(code, `${file}:${line}:${col}: ${reason}`);
  }
}

/** Several problems found at once; the message is the first, `errors` holds all. */
export class ScenarioErrors extends SipstormError {
  constructor(readonly errors: ScenarioError[]) {
    super(errors[0]!.code, errors[0]!.message + (errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''));
  }
}
