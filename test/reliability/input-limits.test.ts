// Files too large or not files at all, and saved results that are broken:
// each is one line naming the file (and the YAML key or JSON path), exit 2,
// at once and with nothing sent. The large files are sparse files made here
// (stat says 50 MB, the disk holds nothing), never committed.

import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const MB = 1024 * 1024;

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-limits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function sparse(path: string, bytes: number): string {
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

function oneLine(t: Test, stderr: string, want: string | RegExp): void {
  const lines = stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${stderr.trim()}`);
  if (typeof want === 'string') t.equal(lines[0], want);
  else t.match(lines[0], want);
  t.notMatch(stderr, /\n\s+at /, 'no stack trace');
}

t.test('a 50 MB scenario is refused before it is read, by validate and run', async (t) => {
  const dir = tempDir(t);
  const file = sparse(join(dir, 'huge.yaml'), 50 * MB);
  const v = await runCli(['validate', file], { outDir: false });
  t.equal(v.status, 2);
  oneLine(t, v.stderr, `${file}:1:1: this file is 50 MB, more than the 2 MB sipstorm reads for a scenario`);
  const r = await runCli(['run', file, '--no-reports'], { outDir: false });
  t.equal(r.status, 2);
  oneLine(t, r.stderr, `sipstorm: ${file}:1:1: this file is 50 MB, more than the 2 MB sipstorm reads for a scenario`);
  t.notMatch(r.stdout, /->/, 'no traffic announced');
});

t.test('body files: too large, or a FIFO that would block a read forever', async (t) => {
  const dir = tempDir(t);
  sparse(join(dir, 'big.txt'), 2 * MB);
  const mk = spawnSync('mkfifo', [join(dir, 'pipe')]);
  t.equal(mk.status, 0, 'mkfifo');
  writeFileSync(join(dir, 's.yaml'), "steps:\n  - send: MESSAGE\n    bodyFile: big.txt\n  - send: MESSAGE\n    bodyFile: pipe\n");
  const v = await runCli(['validate', join(dir, 's.yaml')], { outDir: false });
  t.equal(v.status, 2);
  t.same(v.stderr.trim().split('\n'), [
    `${dir}/s.yaml:3:5: step 1: body file 'big.txt' is 2 MB, more than the 1 MB sipstorm reads for a body file`,
    `${dir}/s.yaml:5:5: step 2: body file 'pipe' is not a regular file (a device, FIFO or socket)`,
  ]);
});

t.test('users CSV too large: in a scenario and with --users-csv', async (t) => {
  const dir = tempDir(t);
  sparse(join(dir, 'users.csv'), 33 * MB);
  writeFileSync(join(dir, 's.yaml'), 'users:\n  csv: users.csv\nsteps:\n  - send: OPTIONS\n');
  const v = await runCli(['validate', join(dir, 's.yaml')], { outDir: false });
  t.equal(v.status, 2);
  oneLine(t, v.stderr, `${dir}/s.yaml:2:3: users CSV 'users.csv' is 33 MB, more than the 32 MB sipstorm reads for a users CSV`);
  const r = await runCli(['run', 'scenarios/options.yaml', '--users-csv', join(dir, 'users.csv'), '--no-reports'], { outDir: false });
  t.equal(r.status, 2);
  oneLine(t, r.stderr, `sipstorm: ${dir}/users.csv: users CSV is 33 MB, more than the 32 MB sipstorm reads for a users CSV`);
});

t.test('a suite file too large', async (t) => {
  const dir = tempDir(t);
  sparse(join(dir, 'big.yaml'), 3 * MB);
  const r = await runCli(['conform', '--suite-dir', dir, '--suite', 'big', '--no-reports'], { outDir: false });
  t.equal(r.status, 2);
  oneLine(t, r.stderr, `sipstorm: ${dir}/big.yaml: is 3 MB, more than the 2 MB sipstorm reads for a suite file`);
});

t.test('merge and report: a result too large, a corrupt histogram, cut JSON, a wrong field', async (t) => {
  const dir = tempDir(t);
  const run = await runCli(['run', 'scenarios/options.yaml', '--total', '2', '--workers', '1', '-q'], { keep: true });
  t.teardown(() => rmSync(run.dir, { recursive: true, force: true }));
  t.equal(run.status, 0, run.out);
  const good = join(run.dir, 'result.json');
  const text = readFileSync(good, 'utf8');

  const result = JSON.parse(text);
  const step = result.scenarios[0].roles[0].steps[0];
  // Bytes changed in the middle of the compressed payload: zlib's "invalid distance too far back" or a failed check.
  step.corrected.histogram = step.corrected.histogram.slice(0, 16) + 'AAAAAAAA' + step.corrected.histogram.slice(24);
  const corrupt = join(dir, 'corrupt.json');
  writeFileSync(corrupt, JSON.stringify(result, null, 2));
  const cut = join(dir, 'cut.json');
  writeFileSync(cut, text.slice(0, text.indexOf('"scenarios"')));
  const wrong = JSON.parse(text);
  wrong.scenarios[0].roles[0].started = 'many';
  const wrongFile = join(dir, 'wrong.json');
  writeFileSync(wrongFile, JSON.stringify(wrong));
  const big = sparse(join(dir, 'big.json'), 65 * MB);
  mkdirSync(join(dir, 'out'));

  for (const cmd of ['merge', 'report']) {
    const files = (f: string) => (cmd === 'merge' ? [good, f] : [f]);
    const out = ['--html', join(dir, 'out', `${cmd}.html`)];
    const c = await runCli([cmd, ...files(corrupt), ...out], { outDir: false });
    t.equal(c.status, 2, `${cmd}: a corrupt histogram is bad input`);
    oneLine(t, c.stderr, new RegExp(`^sipstorm: ${corrupt}: /scenarios/0/roles/0/steps/0/corrected/histogram: not a valid HDR histogram \\(.+\\)$`));
    const k = await runCli([cmd, ...files(cut), ...out], { outDir: false });
    t.equal(k.status, 2, `${cmd}: cut JSON is bad input`);
    oneLine(t, k.stderr, new RegExp(`^sipstorm: ${cut}:\\d+:\\d+: not valid JSON \\(.+\\)$`));
    const w = await runCli([cmd, ...files(wrongFile), ...out], { outDir: false });
    t.equal(w.status, 2, `${cmd}: a field of the wrong type is bad input`);
    oneLine(t, w.stderr, `sipstorm: ${wrongFile}: not a sipstorm result (/scenarios/0/roles/0/started must be integer)`);
    const b = await runCli([cmd, ...files(big), ...out], { outDir: false });
    t.equal(b.status, 2, `${cmd}: a 65 MB result is refused`);
    oneLine(t, b.stderr, `sipstorm: ${big}: is 65 MB, more than the 64 MB sipstorm reads for a result file`);
  }
  t.same(spawnSync('ls', [join(dir, 'out')], { encoding: 'utf8' }).stdout, '', 'no report written from bad input');
});
