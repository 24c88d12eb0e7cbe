// `sipstorm merge a.json b.json ...`: one verdict from shard results.

import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { checkShardSet, mergeResults } from '../../engine/metrics/index.js';
import { runSummary } from '../../reporters/console.js';
import { writeJson } from '../../reporters/json.js';
import { writeJunit } from '../../reporters/junit.js';
import { writeHtml } from '../../reporters/html.js';
import { readResultFile } from '../result-file.js';
import { checkReportFlags, exitAfterReports, writeReportFiles } from '../report-output.js';

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'merge result.json files of shards into one result and verdict',
  usage: 'sipstorm merge RESULT.json... [--json FILE] [--junit FILE] [--html FILE] [--allow-partial]',
  details:
    'The files must be the shards of one run: each shard I/N once, all N of them, one run id (--run-id), one scenario digest; otherwise exit 2 naming what is wrong.\n' +
    'Counts and HDR histograms are added (never averaged); percentiles and thresholds are computed again on the merged numbers.',
  flags: [
    { name: 'json', type: 'string', value: 'FILE', help: 'write the merged result here' },
    { name: 'junit', type: 'string', value: 'FILE', help: 'write JUnit XML of the merged result here' },
    { name: 'html', type: 'string', value: 'FILE', help: 'write the HTML report of the merged result here' },
    { name: 'allow-partial', type: 'boolean', help: 'merge an incomplete shard set; every report then says which shards are missing' },
    { name: 'quiet', short: 'q', type: 'boolean', help: 'print only the verdict line' },
  ],
  async run(args: ParsedArgs): Promise<number> {
    if (args.positionals.length === 0) throw new UsageError('no result file given: sipstorm merge RESULT.json...');
    const inputs = args.positionals.map((file) => ({ file, result: readResultFile(file) }));
    checkReportFlags(args.flags, { outDir: false });
    // The shard set is checked before anything is added up.
    const shardSet = checkShardSet(inputs, Boolean(args.flags['allow-partial']));
    const merged = mergeResults(inputs.map((x) => x.result));
    merged.shardSet = shardSet;
    const { failed: failedReports } = writeReportFiles([
      ...(args.flags.json ? [{ path: String(args.flags.json), write: (p: string) => writeJson(p, merged) }] : []),
      ...(args.flags.junit ? [{ path: String(args.flags.junit), write: (p: string) => writeJunit(p, merged) }] : []),
      ...(args.flags.html ? [{ path: String(args.flags.html), write: (p: string) => writeHtml(p, merged) }] : []),
    ]);
    const summary = runSummary(merged);
    process.stdout.write((args.flags.quiet ? summary.split('\n').pop()! : summary) + '\n');
    return exitAfterReports(merged.exitCode, failedReports); // verdictOf (engine/metrics/verdict.ts), applied by mergeResults
  },
};
