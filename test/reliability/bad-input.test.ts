// Bad user input: every case in test/fixtures/cli-bad/cases.json gets exactly
// its one line on stderr and its exit code (2: bad input), with no stack
// trace and nothing sent.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;
const cases = JSON.parse(readFileSync(root + 'test/fixtures/cli-bad/cases.json', 'utf8')) as { args: string[]; exit: number; stderr: string }[];

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['dist/cli/main.js', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

t.ok(cases.length >= 30, `${cases.length} cases`);
for (const c of cases) {
  t.test(c.args.join(' ') || '(no arguments)', async (t) => {
    const r = await run(c.args);
    t.equal(r.status, c.exit, `exit ${c.exit}`);
    t.equal(r.stderr.trim(), c.stderr, 'the exact message');
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.notMatch(r.stdout, /->/, 'no traffic announced');
  });
}
