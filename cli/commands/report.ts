// `sipstorm report result.json --html out.html`: renders any report again
// from a saved result object (reporters read nothing else).

import { readFileSync } from 'node:fs';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { verdictOf, type RunResult } from '../../engine/metrics/index.js';
import { runSummary } from '../../reporters/console.js';
import { writeHtml } from '../../reporters/html.js';
import { writeJunit } from '../../reporters/junit.js';

export const reportCommand: Command = {
  name: 'report',
  summary: 're-render reports (console, HTML, JUnit) from a saved result.json',
  usage: 'sipstorm report RESULT.json [--html FILE] [--junit FILE]',
  flags: [
    { name: 'html', type: 'string', value: 'FILE', help: 'write the HTML report here' },
    { name: 'junit', type: 'string', value: 'FILE', help: 'write JUnit XML here' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    if (args.positionals.length !== 1) throw new UsageError('give one result file: sipstorm report RESULT.json');
    const file = args.positionals[0]!;
    let result: RunResult;
    try {
      result = JSON.parse(readFileSync(file, 'utf8')) as RunResult;
    } catch (err) {
      throw new UsageError(`${file}: not a readable JSON file (${(err as Error).message.split('\n')[0]})`);
    }
    if (!result?.totals || !Array.isArray(result.scenarios)) throw new UsageError(`${file}: not a sipstorm result`);
    if (args.flags.html) writeHtml(String(args.flags.html), result);
    if (args.flags.junit) writeJunit(String(args.flags.junit), result);
    process.stdout.write(runSummary(result) + '\n');
    // The verdict again from the result itself (the same rule as run, conform and merge), as pass or fail.
    return verdictOf(result).verdict === 'passed' ? EXIT.OK : EXIT.FAILED;
  },
};
