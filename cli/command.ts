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
  /** The command takes SIGINT/SIGTERM itself (cli/interrupts.ts listen()) to end with its reports; otherwise a signal ends it at once. */
  handlesSignals?: boolean;
  run(args: ParsedArgs): Promise<number>;
}
