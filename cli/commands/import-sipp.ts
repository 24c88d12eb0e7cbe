// `sipstorm import-sipp FILE.xml [-o FILE.yaml]`: a SIPp XML scenario as a
// sipstorm scenario (engine/sipp-import/). What cannot be carried over with
// the same behaviour is listed, one line each with its XML line, and the
// command exits 2; the scenario is still written, for a person to finish.
// The result is compiled before it is written: it passes `validate`.

import { writeFileSync } from 'node:fs';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { readInputText } from '../../engine/input-file.js';
import { importSipp } from '../../engine/sipp-import/import.js';
import { XmlError } from '../../engine/sipp-import/xml.js';
import { compileScenarioText, ScenarioErrors } from '../../engine/scenario/index.js';

export const importSippCommand: Command = {
  name: 'import-sipp',
  summary: 'convert a SIPp XML scenario into a sipstorm scenario',
  usage: 'sipstorm import-sipp FILE.xml [-o FILE.yaml]',
  details: 'Exit 2 when an element, attribute or keyword has no sipstorm equal (each listed with its line); the scenario is written all the same.',
  flags: [{ name: 'out', short: 'o', type: 'string', value: 'FILE', help: 'where to write the scenario (default: standard output)' }],
  async run(args: ParsedArgs): Promise<number> {
    if (args.positionals.length !== 1) throw new UsageError('give one SIPp scenario: sipstorm import-sipp FILE.xml [-o FILE.yaml]');
    const file = args.positionals[0]!;
    const xml = readInputText(file, 'scenario');
    let imported;
    try {
      imported = importSipp(xml, file);
    } catch (err) {
      if (!(err instanceof XmlError)) throw err;
      process.stderr.write(`sipstorm: ${file}:${err.line}:${err.col}: not well-formed XML: ${err.reason}\n`);
      return EXIT.BAD_INPUT;
    }
    const out = args.flags.out as string | undefined;
    // The CSV columns ([fieldN]) come with --users-csv at run time: known here as placeholders.
    const vars = Object.fromEntries(imported.fields.map((f) => [f, '']));
    try {
      compileScenarioText(imported.yaml, out ?? 'imported.yaml', { vars });
    } catch (err) {
      const list = err instanceof ScenarioErrors ? err.errors : [err as Error];
      for (const e of list) process.stderr.write(`sipstorm: ${file}: the converted scenario does not validate: ${e.message}\n`);
      imported.problems.push({ line: 1, what: 'the converted scenario does not validate' });
    }
    if (out !== undefined) writeFileSync(out, imported.yaml);
    else process.stdout.write(imported.yaml);
    for (const p of imported.problems) process.stderr.write(`${file}:${p.line}: ${p.what}\n`);
    if (imported.fields.length) process.stderr.write(`${file}: uses the CSV columns ${imported.fields.join(', ')}: run it with --users-csv FILE (a header line user,password,${imported.fields.join(',')})\n`);
    if (imported.problems.length) {
      process.stderr.write(`${file}: ${imported.problems.length} thing(s) not converted: the scenario would not behave as in SIPp\n`);
      return EXIT.BAD_INPUT;
    }
    return EXIT.OK;
  },
};
