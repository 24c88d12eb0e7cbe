// Command-line flag parsing for every subcommand: a small declarative spec per
// command, strict (an unknown flag or a missing value is bad input, exit 2),
// and no dependency. Errors are UsageError with a one-line message.

import { SipstormError } from '../engine/errors.js';

export class UsageError extends SipstormError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

export interface FlagSpec {
  /** Long name without dashes, e.g. 'target'. */
  name: string;
  /** One-letter alias, e.g. 'q'. */
  short?: string;
  /** 'string' takes a value, 'boolean' does not; 'list' takes a value and may repeat. */
  type: 'string' | 'boolean' | 'list';
  /** Value placeholder shown in help, e.g. 'N' or 'FILE'. */
  value?: string;
  help: string;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseArgs(argv: string[], specs: FlagSpec[]): ParsedArgs {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) {
    byName.set(s.name, s);
    if (s.short) byName.set(s.short, s);
  }
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option '${arg.split('=')[0]}' (see --help)`);
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`option '--${spec.name}' takes no value`);
      flags[spec.name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        throw new UsageError(`option '--${spec.name}' needs a value${spec.value ? ` (${spec.value})` : ''}`);
      }
      i++;
    }
    if (spec.type === 'list') {
      const list = (flags[spec.name] as string[] | undefined) ?? [];
      list.push(value);
      flags[spec.name] = list;
    } else {
      flags[spec.name] = value;
    }
  }
  return { flags, positionals };
}

export function formatFlagHelp(specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? ` ${s.value}` : ''}`;
    return [left, s.help] as const;
  });
  const width = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`).join('\n');
}

/** A positive number flag, with a clear error naming the flag. */
export function numberFlag(flags: ParsedArgs['flags'], name: string, opts: { min?: number; integer?: boolean } = {}): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) {
    throw new UsageError(`--${name} must be a number, got '${String(raw)}'`);
  }
  if (opts.integer && !Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got '${raw}'`);
  if (opts.min !== undefined && n < opts.min) throw new UsageError(`--${name} must be at least ${opts.min}, got '${raw}'`);
  return n;
}
