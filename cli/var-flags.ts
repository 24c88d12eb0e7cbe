// `--var NAME=VALUE` (SIPp's -key/-set): a value for ${NAME} in every
// template of the scenario, shared by run, validate and conform. Repeatable;
// a later one for the same name wins. A built-in name cannot be set this way
// (it has its own flag, or comes from the UA), so a typo cannot shadow one.

import { UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import { BUILTIN_VARIABLES } from '../engine/scenario/index.js';

export const varFlagSpec: FlagSpec = {
  name: 'var', type: 'list', value: 'NAME=VALUE',
  help: "value of ${NAME} in the scenario's templates and expectations, repeatable (over the file's 'vars'; a UA's CSV column wins)",
};

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** A warning line for each --var no scenario uses (a typo would otherwise leave the file's default in place, silently). */
export function unusedVarWarnings(vars: Record<string, string>, scenarios: { roles: { variables: string[] }[] }[]): string[] {
  const used = new Set(scenarios.flatMap((s) => s.roles.flatMap((r) => r.variables)));
  return Object.keys(vars).filter((name) => !used.has(name)).map((name) => `sipstorm: warning: --var ${name}: no scenario uses \${${name}}`);
}

export function parseVarFlags(f: ParsedArgs['flags']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (f.var as string[] | undefined) ?? []) {
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq).trim() : item;
    if (eq < 0) throw new UsageError(`--var must be NAME=VALUE, got '${item}'`);
    if (!NAME.test(name)) throw new UsageError(`--var ${item}: '${name}' is not a variable name (letters, digits, _ . -, not starting with a digit)`);
    if (BUILTIN_VARIABLES.has(name) || name.startsWith('peer.')) {
      throw new UsageError(`--var ${item}: \${${name}} is built in and cannot be set (use --user, --password or --users-csv for identities)`);
    }
    out[name] = item.slice(eq + 1);
  }
  return out;
}
