// `sipstorm report result.json --html out.html`: renders any report again
// from a saved result object (reporters read nothing else).

import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { verdictOf, type RunResult } from '../../engine/metrics/index.js';
import { runSummary } from '../../reporters/console.js';
import { writeHtml } from '../../reporters/html.js';
import { writeJunit } from '../../reporters/junit.js';
import { readResultFile } from '../result-file.js';
import { checkReportFlags, exitAfterReports, writeReportFiles } from '../report-output.js';

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
    const result: RunResult = readResultFile(file);
    checkReportFlags(args.flags, { outDir: false });
    const { failed: failedReports } = writeReportFiles([
      ...(args.flags.html ? [{ path: String(args.flags.html), write: (p: string) => writeHtml(p, result) }] : []),
      ...(args.flags.junit ? [{ path: String(args.flags.junit), write: (p: string) => writeJunit(p, result) }] : []),
    ]);
    process.stdout.write(runSummary(result) + '\n');
    // The verdict again from the result itself (the same rule as run, conform and merge), as pass or fail.
    return exitAfterReports(verdictOf(result).verdict === 'passed' ? EXIT.OK : EXIT.FAILED, failedReports);
  },
};
