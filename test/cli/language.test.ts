// Language features end to end against the embedded server: loops, branches,
// labels, captures, raw messages, CSV identities, credentials from the
// environment, and passwords kept out of every report.

import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; out: string; dir: string; result: any }> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-lang-'));
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['dist/cli/main.js', ...args, '--out', dir, '--workers', '1'], { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('exit', (status) => resolve({ status, out, dir, result: JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) }));
  });
}

t.test('loops, branches, captures, raw messages', async (t) => {
  const r = await run(['run', 'test/fixtures/scenarios/features.yaml']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 0, r.out);
  const steps = Object.fromEntries(r.result.scenarios[0].roles[0].steps.map((s: { name: string }) => [s.name, s]));
  t.equal(steps.ping.sent, 6, 'the loop sent 3 OPTIONS per instance');
  t.equal(steps['unknown-user'].codes['404'], 2, 'the 404 branched instead of failing');
  t.equal(steps.refresh.codes['200'], 2, 'the captured ETag and Expires made a valid refresh');
  t.equal(steps.raw.codes['200'], 2, 'raw OPTIONS answered');
  t.equal(steps['unknown-method'].codes['405'], 2, 'raw unknown method answered 405');
});

t.test('identities from a CSV file, extra columns as variables', async (t) => {
  const r = await run(['run', 'test/fixtures/scenarios/csv.yaml']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 0, r.out);
  t.equal(r.result.totals.passed, 2);
});

t.test('--password-env: the password comes from the environment and never reaches a report', async (t) => {
  const good = await run(['run', 'scenarios/register-auth.yaml', '--total', '4', '--password-env', 'SIPSTORM_TEST_PW'], { SIPSTORM_TEST_PW: 'secret{n}' });
  t.teardown(() => rmSync(good.dir, { recursive: true, force: true }));
  t.equal(good.status, 0, good.out);
  const bad = await run(['run', 'scenarios/register-auth.yaml', '--total', '4', '--user', 'user{n}', '--password-env', 'SIPSTORM_TEST_PW'], { SIPSTORM_TEST_PW: 'Wr0ngPassw0rd' });
  t.teardown(() => rmSync(bad.dir, { recursive: true, force: true }));
  t.equal(bad.status, 1, 'wrong password: the steps fail');
  t.match(bad.out, /expected 200, got 403/);
  t.ok(bad.result.failures.length > 0, 'failed instances are sampled with their ladders');
  t.ok(bad.result.failures[0].ladder.some((e: { raw: string }) => /Authorization: Digest/.test(e.raw)), 'the ladder holds the authenticated request');
  for (const f of readdirSync(bad.dir)) {
    const text = readFileSync(join(bad.dir, f), 'utf8');
    t.notOk(text.includes('Wr0ngPassw0rd'), `${f} does not contain the password`);
    t.notMatch(text, /response="[0-9a-f]{32}/, `${f} does not contain a digest response`);
  }
  t.notOk(bad.out.includes('Wr0ngPassw0rd'), 'the console output does not contain it either');
  const env = { ...process.env };
  delete env.SIPSTORM_NOT_SET;
  const missing = spawnSync(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/register-auth.yaml', '--password-env', 'SIPSTORM_NOT_SET', '--no-reports'], { cwd: root, env, encoding: 'utf8' });
  t.equal(missing.status, 2, 'an unset variable is bad input');
  t.equal(missing.stderr.trim(), 'sipstorm: --password-env: environment variable SIPSTORM_NOT_SET is not set');
});
