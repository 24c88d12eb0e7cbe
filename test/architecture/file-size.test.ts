// The UA core stays in small files (issue 17, docs/architecture.md layer 11):
// no source file of engine/ua over 400 lines unless its header comment says
// why ("over 400 lines because ..."), read from the TypeScript sources.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../support/cli.js';
import { sourceFiles } from '../support/import-graph.js';

const LIMIT = 400;

/** The comment lines a file opens with. */
function header(text: string): string {
  const lines = text.split('\n');
  const end = lines.findIndex((l) => !l.startsWith('//'));
  return lines.slice(0, end < 0 ? lines.length : end).join(' ');
}

t.test(`no file of engine/ua over ${LIMIT} lines without a reason at its top`, async (t) => {
  const files = sourceFiles(join(ROOT, 'engine/ua'));
  t.ok(files.length > 10, `engine/ua has its source files (${files.length})`);
  const over = files
    .map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }))
    .map((f) => ({ ...f, lines: f.text.split('\n').length - (f.text.endsWith('\n') ? 1 : 0) }))
    .filter((f) => f.lines > LIMIT && !/over 400 lines because/i.test(header(f.text)))
    .map((f) => `${f.file}: ${f.lines} lines`);
  t.same(over, [], 'every file within the limit or saying why');
});
