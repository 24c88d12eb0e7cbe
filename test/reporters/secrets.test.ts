// No password and no digest secret (response, cnonce, rspauth: with the
// nonce, realm and URI beside them they allow an offline dictionary attack on
// the password), nor the gssapi-data of an NTLM or Kerberos login, in
// anything sipstorm writes: every file and stdout/stderr of `run` (its traces
// and pcapng included), `conform`, and of `merge` and `report` over the run's
// result.

import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliRun } from '../support/cli.js';

const PASSWORD = 'Wr0ngPassw0rd';

/** Every value after response=, cnonce= or rspauth= (quoted, HTML- or JSON-escaped or not) must be the mask. */
function unmaskedDigestValues(text: string): string[] {
  const out: string[] = [];
  const re = /\b(response|cnonce|rspauth|gssapi-data)\s*=\s*(?:\\?"|&quot;|&#34;)?([^",\s&\\]*)/gi;
  for (const m of text.matchAll(re)) if (m[2] !== '***') out.push(m[0]);
  return out;
}

function checkAll(t: Test, what: string, r: CliRun, files: string[]): void {
  t.ok(files.length > 0, `${what}: wrote files`);
  const texts: [string, string][] = [...files.map((f): [string, string] => [f.replace(/^.*\//, ''), readFileSync(f, 'utf8')]), ['stdout', r.stdout], ['stderr', r.stderr]];
  for (const [name, text] of texts) {
    t.notOk(text.includes(PASSWORD), `${what}: ${name} does not contain the password`);
    t.same(unmaskedDigestValues(text), [], `${what}: ${name} has no unmasked digest response, cnonce or rspauth`);
  }
}

function filesIn(dir: string): string[] {
  return readdirSync(dir).map((f) => join(dir, f));
}

t.test('run, then merge and report of its result, with a wrong password', async (t) => {
  // The capture files (--trace, --trace-failed, --pcap) go in the same folder: they are checked like the reports.
  const capture = mkdtempSync(join(tmpdir(), 'sipstorm-secrets-'));
  t.teardown(() => rmSync(capture, { recursive: true, force: true }));
  const run = await runCli(['run', 'scenarios/register-auth.yaml', '--total', '4', '--workers', '1', '--user', 'user{n}', '--password-env', 'SIPSTORM_TEST_PW',
    '--trace', join(capture, 'trace.txt'), '--trace-failed', join(capture, 'failed.txt'), '--pcap', join(capture, 'run.pcapng')], { env: { SIPSTORM_TEST_PW: PASSWORD }, keep: true });
  t.teardown(() => rmSync(run.dir, { recursive: true, force: true }));
  t.match(readFileSync(join(capture, 'trace.txt'), 'latin1'), /Authorization: Digest .*response="\*\*\*"/, 'the trace holds the authenticated requests, masked');
  t.match(readFileSync(join(capture, 'failed.txt'), 'latin1'), /failed instance: scenario register-auth/, 'the failed instances are in --trace-failed');
  t.ok(readFileSync(join(capture, 'run.pcapng')).includes('response="***"'), 'the capture holds them, masked');
  checkAll(t, 'run captures', run, filesIn(capture));
  t.equal(run.status, 1, 'the steps fail: wrong password');
  t.ok(run.result.failures[0].ladder.some((e: { raw: string }) => /Authorization: Digest .*response=/.test(e.raw)), 'the ladder holds an authenticated request');
  checkAll(t, 'run', run, filesIn(run.dir));

  const out = join(run.dir, 'merged');
  const merge = await runCli(['merge', join(run.dir, 'result.json'), '--json', join(out, 'merged.json'), '--junit', join(out, 'merged.xml'), '--html', join(out, 'merged.html')], { outDir: false });
  t.equal(merge.status, 1, merge.stderr);
  checkAll(t, 'merge', merge, filesIn(out));

  const again = join(run.dir, 'again');
  const report = await runCli(['report', join(out, 'merged.json'), '--html', join(again, 'report.html'), '--junit', join(again, 'junit.xml')], { outDir: false });
  t.equal(report.status, 1, report.stderr);
  checkAll(t, 'report', report, filesIn(again));
});

t.test('conform with a wrong password: ladders of the failed auth cases are masked', async (t) => {
  const r = await runCli(['conform', '--suite', 'auth', '--user', 'alice', '--password', PASSWORD], { keep: true });
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 1, r.out);
  const ladders = r.result.failures.flatMap((f: { ladder: { raw: string }[] }) => f.ladder.map((e) => e.raw)).join('\n');
  t.match(ladders, /Authorization: Digest .*response="\*\*\*"/, 'the failed cases carry their authenticated requests, masked');
  t.match(ladders, /cnonce="\*\*\*"/, 'cnonce masked');
  t.match(ladders, /nonce="[^*"]+"/, 'the nonce itself is kept: it is no secret');
  checkAll(t, 'conform', r, filesIn(r.dir));
});

t.test('NTLM and Kerberos logins with a wrong password: gssapi-data and signatures masked', async (t) => {
  for (const file of ['scenarios/register-ntlm.yaml', 'scenarios/register-kerberos.yaml']) {
    const run = await runCli(['run', file, '--total', '2', '--workers', '1', '--password-env', 'SIPSTORM_TEST_PW'], { env: { SIPSTORM_TEST_PW: PASSWORD }, keep: true });
    t.teardown(() => rmSync(run.dir, { recursive: true, force: true }));
    if (/skipping/.test(run.stderr)) {
      t.equal(process.env.CI, undefined, `${file} skipped in CI: ${run.stderr}`);
      continue;
    }
    t.equal(run.status, 1, `${file}: the logins fail: wrong password`);
    checkAll(t, file, run, filesIn(run.dir));
  }
});
