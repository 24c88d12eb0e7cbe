// The corpus of broken scenario files: each one gives exactly its one-line
// error (file:line:col, the rule broken, in words) and exit code 2, before
// any traffic.

import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;
const dir = 'test/fixtures/scenarios-bad/';
const expected = new Map(
  readFileSync(root + dir + 'expected.tsv', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t') as [string, string]),
);
const files = readdirSync(root + dir).filter((f) => f.endsWith('.yaml')).sort();

t.ok(files.length >= 30, `at least 30 broken scenarios (${files.length})`);
t.equal(expected.size, files.length, 'every file has its expected message');

t.test('sipstorm validate: one line per file, exit 2', async (t) => {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'validate', '--quiet', ...files.map((f) => dir + f)], { cwd: root, encoding: 'utf8' });
  t.equal(r.status, 2, 'exit code 2');
  t.equal(r.stdout, '', 'nothing on stdout');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const lines = r.stderr.trim().split('\n');
  for (const f of files) {
    const want = `${dir}${f}:${expected.get(f)}`;
    t.ok(lines.includes(want), `${f}: ${expected.get(f)}`);
  }
  for (const line of lines) t.match(line, /^test\/fixtures\/scenarios-bad\/[\w-]+\.yaml:\d+:\d+: \S/, 'file:line:col: message');
});

t.test('sipstorm run on a broken scenario exits 2 before any traffic', async (t) => {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'run', dir + 'bad-code-class.yaml', '--target', '127.0.0.1:9', '--no-reports'], { cwd: root, encoding: 'utf8' });
  t.equal(r.status, 2);
  t.equal(r.stderr.trim(), `sipstorm: ${dir}bad-code-class.yaml:${expected.get('bad-code-class.yaml')}`);
  t.notMatch(r.stdout, /->/, 'did not announce any traffic');
});
