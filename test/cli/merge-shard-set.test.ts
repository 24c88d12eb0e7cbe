// `sipstorm merge` takes the shards of one run, each once, all of them: a shard
// given twice, a lone shard, shards of another run id, of other scenarios or
// of another N are bad input (exit 2, one line saying what is wrong);
// --allow-partial merges an incomplete set and every report says so.

import t from 'tap';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarios, scenarioDigest } from '../../engine/scenario/index.js';
import { ROOT } from '../support/cli.js';

interface Exec {
  status: number | null;
  stdout: string;
  stderr: string;
}

const sipstorm = (args: string[]) =>
  new Promise<Exec>((resolve) => {
    const child = spawn(process.execPath, ['dist/cli/main.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });

t.test('merge checks the shard set', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-shard-set-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = (name: string) => join(dir, name);
  // Each run starts its own embedded server on a free port: 10 OPTIONS in all, 5 per shard.
  const run = (name: string, extra: string[]) =>
    sipstorm(['run', 'scenarios/options.yaml', '--total', '10', '--rate', '200', '--workers', '1', '--quiet', '--no-reports', '--json', f(name), ...extra]);
  const runs = await Promise.all([
    run('s1.json', ['--shard', '1/2', '--run-id', 'pipeline-7']),
    run('s2.json', ['--shard', '2/2', '--run-id', 'pipeline-7']),
    run('whole-a.json', []),
  ]);
  t.same(runs.map((r) => r.status), [0, 0, 0], runs.map((r) => r.stderr).join(''));
  // Results of other runs, as another run would have written them (the digest of other load flags is the last test's).
  const variant = (from: string, name: string, change: (settings: Record<string, unknown>) => void) => {
    const data = JSON.parse(readFileSync(f(from), 'utf8'));
    change(data.settings);
    writeFileSync(f(name), JSON.stringify(data));
  };
  variant('s2.json', 's2-other-run.json', (x) => (x.runId = 'pipeline-8'));
  variant('s2.json', 's2-no-id.json', (x) => (x.runId = null));
  variant('s2.json', 's2-of-3.json', (x) => (x.shard = { index: 1, count: 3 }));
  variant('s2.json', 's2-other-scenario.json', (x) => (x.scenarioDigest = `sha256:${'0'.repeat(64)}`));
  variant('whole-a.json', 'whole-b.json', () => {});
  const s1 = JSON.parse(readFileSync(f('s1.json'), 'utf8'));
  t.same(s1.settings.shard, { index: 0, count: 2 }, 'the result records its shard');
  t.equal(s1.settings.runId, 'pipeline-7', 'and the run id');
  t.match(s1.settings.scenarioDigest, /^sha256:[0-9a-f]{64}$/, 'and the scenario digest');
  t.equal(JSON.parse(readFileSync(f('whole-a.json'), 'utf8')).settings.runId, null, 'no --run-id: null');

  const bad = async (files: string[], line: RegExp, what: string) => {
    const r = await sipstorm(['merge', ...files.map(f)]);
    t.equal(r.status, 2, `${what}: exit 2`);
    t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line`);
    t.match(r.stderr, line, `${what}: ${r.stderr.trim()}`);
    t.equal(r.stdout, '', `${what}: no verdict printed`);
  };
  // Each merge is a process of its own: they run side by side.
  await Promise.all([
    bad(['s1.json', 's1.json'], /^sipstorm: \S+s1\.json is given twice \(shard 1\/2\)$/m, 'the same shard twice'),
    bad(['s1.json'], /^sipstorm: shard 2\/2 is missing \(given: 1\/2 in \S+s1\.json\); add --allow-partial to merge an incomplete set$/m, 'a lone shard of two'),
    bad(['s1.json', 's2-other-run.json'], /s1\.json has run id 'pipeline-7' but \S+s2-other-run\.json has run id 'pipeline-8'/, 'another run id'),
    bad(['s1.json', 's2-no-id.json'], /has run id 'pipeline-7' but \S+s2-no-id\.json has no run id/, 'a run id and none'),
    bad(['s1.json', 's2-of-3.json'], /s1\.json is one of 2 shards but \S+s2-of-3\.json is one of 3/, 'another N'),
    bad(['s1.json', 's2-other-scenario.json'], /ran different scenarios or load flags \(scenario digest sha256:\S+ vs sha256:000000000000…\)/, 'another scenario digest'),
    bad(['whole-a.json', 'whole-b.json'], /are both whole runs \(shard 1\/1\)/, 'two whole runs'),
  ]);

  const whole = await sipstorm(['merge', f('s1.json'), f('s2.json'), '--json', f('m.json')]);
  t.equal(whole.status, 0, whole.stdout + whole.stderr);
  const m = JSON.parse(readFileSync(f('m.json'), 'utf8'));
  t.equal(m.totals.started, 10, 'the complete set: the totals of the whole run');
  t.same(m.shardSet, { count: 2, merged: ['1/2', '2/2'], missing: [], partial: false });
  t.notMatch(whole.stdout, /PARTIAL/);

  const partial = await sipstorm(['merge', f('s1.json'), '--allow-partial', '--json', f('p.json'), '--junit', f('p.xml'), '--html', f('p.html')]);
  t.equal(partial.status, 0, 'what was merged passed');
  t.match(partial.stdout, /^PARTIAL: shard 2\/2 missing; the totals cover 1 of 2 shards \(merged with --allow-partial\)$/m, 'console: the partial line');
  t.match(partial.stdout.trim().split('\n').pop(), /^PASSED: 5 started, 5 passed, 0 failed \(partial: 1 of 2 shards missing\)$/, 'console: the verdict line says partial');
  t.same(JSON.parse(readFileSync(f('p.json'), 'utf8')).shardSet, { count: 2, merged: ['1/2'], missing: ['2/2'], partial: true }, 'JSON: shardSet.partial');
  t.match(readFileSync(f('p.xml'), 'utf8'), /<testcase name="shard 2\/2" classname="sipstorm.run.shards" time="0.000">\s*<skipped message="missing: PARTIAL: shard 2\/2 missing/, 'JUnit: the missing shard, skipped');
  t.match(readFileSync(f('p.html'), 'utf8'), /<p id="partial" class="partial">PARTIAL: shard 2\/2 missing/, 'HTML: the partial banner');

  // A partial merge and the missing shard complete the set.
  const completed = await sipstorm(['merge', f('p.json'), f('s2.json'), '--json', f('c.json')]);
  t.equal(completed.status, 0, completed.stderr);
  t.same(JSON.parse(readFileSync(f('c.json'), 'utf8')).shardSet, { count: 2, merged: ['1/2', '2/2'], missing: [], partial: false });
});

t.test('the scenario digest does not depend on where the files are', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-digest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(ROOT, 'scenarios/register-auth.yaml'), join(dir, 'register-auth.yaml'));
  const here = scenarioDigest(loadScenarios([join(ROOT, 'scenarios/register-auth.yaml')]), { rate: 10 });
  t.equal(scenarioDigest(loadScenarios([join(dir, 'register-auth.yaml')]), { rate: 10 }), here, 'a copy elsewhere: the same digest');
  t.not(scenarioDigest(loadScenarios([join(dir, 'register-auth.yaml')]), { rate: 20 }), here, 'other load flags: another digest');
  t.not(scenarioDigest(loadScenarios([join(ROOT, 'scenarios/options.yaml')]), { rate: 10 }), here, 'another scenario: another digest');
});

t.test('--run-id: printable, without spaces, else bad input before any traffic', async (t) => {
  const r = await sipstorm(['run', 'scenarios/options.yaml', '--run-id', 'a b', '--no-reports']);
  t.equal(r.status, 2);
  t.equal(r.stderr, "sipstorm: --run-id must be 1 to 200 printable characters without spaces, got 'a b'\n");
});
