// The shape every subcommand module exports, so main.ts can list, document and
// dispatch them without knowing what they do.

import type { FlagSpec, ParsedArgs } from './args.js';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Longer text shown by `sipstorm <command> --help`, after the flags. */
  details?: string;
  flags: FlagSpec[];
  run(args: ParsedArgs): Promise<number>;
}
