// `sipstorm merge a.json b.json ...`: one verdict from shard results.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { checkShardSet, mergeResults, type RunResult } from '../../engine/metrics/index.js';
import { runSummary } from '../../reporters/console.js';
import { writeJson } from '../../reporters/json.js';
import { writeJunit } from '../../reporters/junit.js';
import { writeHtml } from '../../reporters/html.js';

const require = createRequire(import.meta.url);

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
    const Ajv = require('ajv') as typeof import('ajv').default;
    const schema = JSON.parse(readFileSync(new URL('../../../schemas/result.schema.json', import.meta.url), 'utf8'));
    const validate = new Ajv({ strict: false }).compile(schema);
    const inputs = args.positionals.map((file) => {
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new UsageError(`${file}: not a readable JSON file (${(err as Error).message.split('\n')[0]})`);
      }
      if (!validate(data)) throw new UsageError(`${file}: not a sipstorm result (${validate.errors?.[0]?.instancePath || '/'} ${validate.errors?.[0]?.message})`);
      return { file, result: data as RunResult };
    });
    // The shard set is checked before anything is added up.
    const shardSet = checkShardSet(inputs, Boolean(args.flags['allow-partial']));
    const merged = mergeResults(inputs.map((x) => x.result));
    merged.shardSet = shardSet;
    if (args.flags.json) writeJson(String(args.flags.json), merged);
    if (args.flags.junit) writeJunit(String(args.flags.junit), merged);
    if (args.flags.html) writeHtml(String(args.flags.html), merged);
    const summary = runSummary(merged);
    process.stdout.write((args.flags.quiet ? summary.split('\n').pop()! : summary) + '\n');
    return merged.exitCode; // verdictOf (engine/metrics/verdict.ts), applied by mergeResults
  },
};
