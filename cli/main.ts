#!/usr/bin/env node
// Entry point of the `sipstorm` command: parses the subcommand, prints help and
// version, and turns every error into one line on stderr plus a documented exit
// code. No protocol logic lives here.

import { toolVersion } from './version.js';
import { formatFlagHelp, parseArgs, UsageError } from './args.js';
import type { Command } from './command.js';
import { EXIT, EXIT_CODE_TABLE } from './exit-codes.js';
import { errorCode } from '../engine/errors.js';
import { ScenarioErrors } from '../engine/scenario/errors.js';
import { interrupts } from './interrupts.js';

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  validate: async () => (await import('./commands/validate.js')).validateCommand,
  merge: async () => (await import('./commands/merge.js')).mergeCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  conform: async () => (await import('./commands/conform.js')).conformCommand,
  'import-sipp': async () => (await import('./commands/import-sipp.js')).importSippCommand,
};


async function mainHelp(): Promise<string> {
  const lines = [
    `sipstorm ${toolVersion()}: SIP load and conformance testing`,
    '',
    'Usage: sipstorm <command> [options]',
    '',
    'Commands:',
  ];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const cmd = await load();
    lines.push(`  ${name.padEnd(10)}${cmd.summary}`);
  }
  lines.push('', 'Run `sipstorm <command> --help` for the options of a command.', '', EXIT_CODE_TABLE);
  return lines.join('\n');
}

function commandHelp(cmd: Command): string {
  const parts = [`Usage: ${cmd.usage}`, '', cmd.summary, '', 'Options:', formatFlagHelp(cmd.flags), '  -h, --help    show this help'];
  if (cmd.details) parts.push('', cmd.details);
  parts.push('', EXIT_CODE_TABLE);
  return parts.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write((await mainHelp()) + '\n');
    return first === undefined ? EXIT.BAD_INPUT : EXIT.OK;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`sipstorm ${toolVersion()}\n`);
    return EXIT.OK;
  }
  const load = COMMANDS[first];
  if (!load) {
    process.stderr.write(`sipstorm: unknown command '${first}' (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return EXIT.BAD_INPUT;
  }
  // From here on no signal ends the process silently: a command that saves its work takes it, even one that came while it loaded.
  interrupts.install();
  await interrupts.holdForTest('load');
  const cmd = await load();
  if (!cmd.handlesSignals) interrupts.exitOnSignal();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(cmd) + '\n');
    return EXIT.OK;
  }
  try {
    const args = parseArgs(rest, cmd.flags);
    return await cmd.run(args);
  } catch (err) {
    return reportFatal(err);
  } finally {
    interrupts.done();
  }
}

/** Turns any error into one line and an exit code; a stack trace only with SIPSTORM_DEBUG=1. */
export function reportFatal(err: unknown): number {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`sipstorm: ${err instanceof ScenarioErrors ? err.errors[0]!.message : message}\n`);
  if (process.env.SIPSTORM_DEBUG && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n');
  if (err instanceof UsageError) return EXIT.BAD_INPUT;
  if (err instanceof ScenarioErrors) {
    for (const e of err.errors.slice(1)) process.stderr.write(`sipstorm: ${e.message}\n`);
  }
  const exit = (err as { exitCode?: unknown } | null)?.exitCode;
  if (typeof exit === 'number') return exit;
  if (code.startsWith('SCENARIO_') || code.startsWith('THRESHOLD_') || code === 'BAD_TARGET' || code.startsWith('CSV_') || code.startsWith('SUITE_') || code.startsWith('TLS_FILE') || code === 'USAGE') {
    return EXIT.BAD_INPUT;
  }
  return EXIT.CANNOT_RUN;
}

// `sipstorm run ... | head`: once the reader of a stream is gone, what would go to it is dropped, and the command
// goes on to its reports and its exit code instead of dying on EPIPE with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stream.write = (() => true) as typeof stream.write;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.exitCode = reportFatal(err);
  },
);
