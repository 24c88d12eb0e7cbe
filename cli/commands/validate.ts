// `sipstorm validate FILE...`: checks scenario files (YAML, schema, variables,
// labels, files, thresholds) without sending anything. One line per problem
// with file:line:col; exit 2 when any file is invalid.

import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { loadScenarioFile, scenarioFiles, ScenarioErrors } from '../../engine/scenario/index.js';
import { scenarioThresholds } from '../scenario-thresholds.js';
import { parseVarFlags, varFlagSpec } from '../var-flags.js';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check scenario files without running them',
  usage: 'sipstorm validate SCENARIO.yaml|DIR... [--var NAME=VALUE] [--users-csv FILE]',
  details: 'Give the --var and --users-csv of the run: the variables they define are then known, as in the run.',
  flags: [
    { name: 'quiet', short: 'q', type: 'boolean', help: 'print only problems' },
    varFlagSpec,
    { name: 'users-csv', type: 'string', value: 'FILE', help: "the run's users CSV: its columns are variables ${column}" },
  ],
  async run(args: ParsedArgs): Promise<number> {
    if (args.positionals.length === 0) throw new UsageError('no scenario given: sipstorm validate SCENARIO.yaml|DIR...');
    const opts = { vars: parseVarFlags(args.flags), usersCsv: args.flags['users-csv'] as string | undefined };
    if (opts.usersCsv !== undefined) {
      const { csvIdentities } = await import('../../engine/ua/index.js');
      csvIdentities(opts.usersCsv, '');
    }
    let bad = 0;
    for (const file of scenarioFiles(args.positionals)) {
      try {
        const s = loadScenarioFile(file, opts);
        scenarioThresholds(s);
        if (!args.flags.quiet) process.stdout.write(`${file}: ok (${s.roles.map((r) => `${r.name}: ${r.steps.filter((x) => x.metric >= 0).length} steps`).join(', ')})\n`);
      } catch (err) {
        bad++;
        const list = err instanceof ScenarioErrors ? err.errors : [err as Error];
        for (const e of list) process.stderr.write(`${e.message}\n`);
      }
    }
    return bad > 0 ? EXIT.BAD_INPUT : EXIT.OK;
  },
};
