// Where reports go, checked before any traffic (exit 2, one line naming the
// flag and the cause), and reports that fail at the end (disk full): each
// failed file named, the verdict still printed, no temp file left, exit 3.
// Tests run as root, where permissions stop nothing: a read-only and a full
// file system are tmpfs mounts made here and removed at teardown.

import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

/** A tmpfs mounted on a new temp dir with `options`; undefined (a skip, a failure in CI) where mounting is not permitted. */
function tmpfs(t: Test, options: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-mnt-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    const why = `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`;
    if (process.env.CI === 'true') t.fail(why);
    else void t.test(why, { skip: why }, async () => undefined);
    return undefined;
  }
  t.teardown(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function oneLine(t: Test, stderr: string, re: RegExp): void {
  t.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr.trim()}`);
  t.match(stderr.trim(), re);
}

t.test('--out naming a file: exit 2 before any traffic', async (t) => {
  const r = await runCli(['run', 'scenarios/options.yaml', '--total', '2', '--out', 'package.json'], { outDir: false });
  t.equal(r.status, 2);
  oneLine(t, r.stderr, /^sipstorm: --out package\.json: it is a file, not a directory$/);
  t.notMatch(r.stdout, /->/, 'no traffic announced');
});

t.test('--out under a file, --json naming a directory: exit 2', async (t) => {
  const under = await runCli(['run', 'scenarios/options.yaml', '--out', 'package.json/reports'], { outDir: false });
  t.equal(under.status, 2);
  oneLine(t, under.stderr, /^sipstorm: --out package\.json\/reports: \S*package\.json is a file, not a directory$/);
  const dir = await runCli(['conform', '--suite', 'message', '--json', 'scenarios'], { outDir: false });
  t.equal(dir.status, 2);
  oneLine(t, dir.stderr, /^sipstorm: --json scenarios: is a directory; give a file name$/);
  t.notMatch(dir.stdout, /->/, 'no traffic announced');
});

t.test('a read-only file system: EROFS named, exit 2 before any traffic', async (t) => {
  const ro = tmpfs(t, 'ro,size=64k');
  if (!ro) return;
  const run = await runCli(['run', 'scenarios/options.yaml', '--total', '2', '--out', join(ro, 'reports')], { outDir: false });
  t.equal(run.status, 2);
  oneLine(t, run.stderr, new RegExp(`^sipstorm: --out ${ro}/reports: cannot write in ${ro} \\(EROFS: read-only file system\\)$`));
  t.notMatch(run.stdout, /->/, 'no traffic announced');
  const saved = await runCli(['run', 'scenarios/options.yaml', '--total', '2', '--workers', '1', '-q'], { keep: true });
  t.teardown(() => rmSync(saved.dir, { recursive: true, force: true }));
  t.equal(saved.status, 0, saved.out);
  const merge = await runCli(['merge', join(saved.dir, 'result.json'), '--html', join(ro, 'merged.html')], { outDir: false });
  t.equal(merge.status, 2);
  oneLine(t, merge.stderr, /cannot write in .* \(EROFS: read-only file system\)$/);
  t.equal(merge.stdout, '', 'no verdict: nothing was merged');
});

t.test('a file system already full: exit 2 before any traffic', async (t) => {
  const full = tmpfs(t, 'size=16k');
  if (!full) return;
  spawnSync('sh', ['-c', `head -c 65536 /dev/zero > ${full}/fill`]);
  const r = await runCli(['run', 'scenarios/options.yaml', '--total', '2', '--out', join(full, 'reports')], { outDir: false });
  t.equal(r.status, 2);
  oneLine(t, r.stderr, /\(ENOSPC: no space left on device\)$/);
  t.notMatch(r.stdout, /->/, 'no traffic announced');
});

t.test('the disk fills while the reports are written: each failed file named, the verdict printed, no temp file, exit 3', async (t) => {
  const fs = tmpfs(t, 'size=16k');
  if (!fs) return;
  // 4 KB left: junit.xml fits, result.json and report.html (each over 4 KB) do not.
  writeFileSync(join(fs, 'fill'), Buffer.alloc(12 * 1024));
  const out = join(fs, 'reports');
  const r = await runCli(['run', 'scenarios/options.yaml', '--total', '2', '--workers', '1', '--out', out], { outDir: false });
  t.equal(r.status, 3, r.out);
  t.match(r.stdout, /^PASSED: 2 started, 2 passed, 0 failed$/m, 'the verdict is printed');
  const failed = r.stderr.trim().split('\n');
  t.ok(failed.length >= 1, 'at least one report failed');
  for (const line of failed) t.match(line, new RegExp(`^sipstorm: cannot write ${out}/(result\\.json|junit\\.xml|report\\.html) \\(ENOSPC: no space left on device\\)$`));
  const left = readdirSync(out);
  t.same(left.filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
  for (const f of left) {
    const text = readFileSync(join(out, f), 'utf8');
    if (f === 'result.json') t.doesNotThrow(() => JSON.parse(text), 'result.json is complete');
    if (f === 'junit.xml') t.match(text, /<\/testsuites>\n$/, 'junit.xml is complete');
    if (f === 'report.html') t.match(text, /<\/html>\n?$/, 'report.html is complete');
    t.notOk(failed.some((l) => l.includes(`/${f} `)), `${f} was written and not reported as failed`);
  }
});
