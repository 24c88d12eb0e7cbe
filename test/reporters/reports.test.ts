// Reports a CI server reads: the JSON result validates against its schema,
// the JUnit XML validates against the JUnit XSD (xmllint), failing runs give
// failing testcases with useful messages, thresholds set the exit code, and
// any bytes a server sends are escaped right.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { renderJunit, xmlEscape } from '../../reporters/junit.js';

const root = new URL('../../../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const Ajv = require('ajv') as typeof import('ajv').default;
const validateResult = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(root, 'schemas/result.schema.json'), 'utf8')));
const xsd = join(root, 'test/fixtures/junit/junit.xsd');
const xmllint = existsSync('/usr/bin/xmllint');

function run(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-rep-'));
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args, '--out', dir, '--workers', '1'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { ...r, dir };
}

function xmlValid(file: string): { ok: boolean; out: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
  return { ok: r.status === 0, out: r.stderr };
}

t.test('a passing run: result.json matches the schema, junit.xml the XSD', async (t) => {
  const r = run(['run', 'scenarios/options.yaml', 'scenarios/register-auth.yaml', '--threshold', 'step.REGISTER.p99 < 5s', '--threshold', 'failed.rate < 0.1%']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 0, r.stdout + r.stderr);
  const result = JSON.parse(readFileSync(join(r.dir, 'result.json'), 'utf8'));
  t.ok(validateResult(result), JSON.stringify(validateResult.errors?.slice(0, 3)));
  t.same(result.thresholds.map((x: { ok: boolean }) => x.ok), [true, true]);
  if (xmllint) {
    const v = xmlValid(join(r.dir, 'junit.xml'));
    t.ok(v.ok, `junit.xml validates: ${v.out}`);
  }
  t.match(readFileSync(join(r.dir, 'junit.xml'), 'utf8'), /<testcase name="threshold step\.REGISTER\.p99 &lt; 5s" classname="thresholds"/);
});

t.test('a failing run: failing testcases that say expected vs got; a failed threshold exits 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-rep-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'busy.yaml');
  writeFileSync(file, "load: { total: 4, rate: 20 }\nsteps:\n  - send: INVITE\n    to: 'sip:nobody@${target.host}:${target.port}'\n    expect: 2xx\n");
  const r = run(['run', file, '--threshold', 'failed.rate < 0.1%']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 1);
  const junit = readFileSync(join(r.dir, 'junit.xml'), 'utf8');
  t.match(junit, /<testsuite name="busy" tests="1" failures="1"/);
  t.match(junit, /<failure message="4 of 4 failed: 4 × expected 2xx, got 404" type="expectation">/);
  t.match(junit, /<testcase name="threshold failed\.rate &lt; 0\.1%" classname="thresholds" time="0\.000">\s*<failure message="failed\.rate &lt; 0\.1%: got 1"/);
  if (xmllint) t.ok(xmlValid(join(r.dir, 'junit.xml')).ok, 'a failing report validates too');
  const result = JSON.parse(readFileSync(join(r.dir, 'result.json'), 'utf8'));
  t.ok(validateResult(result));
  t.equal(result.totals.verdict, 'failed');
  t.equal(result.exitCode, 1);
  t.equal(result.failures[0].reason, "step 1 'INVITE': expected 2xx, got 404 Not Found");
  t.ok(result.failures[0].ladder.length >= 2, 'a SIP ladder of the failed call');
});

t.test('a broken threshold exits 2 before any traffic', async (t) => {
  const r = run(['run', 'scenarios/options.yaml', '--threshold', 'step.OPTIONS.p99 <<< 5']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 2);
  t.match(r.stderr, /^sipstorm: command line: threshold 'step\.OPTIONS\.p99 <<< 5': expected a number at column 19/);
  t.notOk(existsSync(join(r.dir, 'result.json')), 'nothing ran');
});

t.test('XML escaping of anything a server sends back', async (t) => {
  t.equal(xmlEscape('a<b>&"c\'\u0000\u0007\u001b\uFFFE😀'), 'a&lt;b&gt;&amp;&quot;c&apos;😀');
  const nasty = 'Busy <Here> & "there" \u0000\u0001 ]]> \uD800';
  const xml = renderJunit({
    totals: { started: 1, passed: 0, failed: 1, running: 0, dropped: 0, verdict: 'failed' }, durationMs: 5, thresholds: [],
    scenarios: [{ name: nasty, file: 'x.yaml', startedAt: new Date().toISOString(), durationMs: 5, roles: [{ role: 'main', started: 1, passed: 0, failed: 1, running: 0, dropped: 0, failureReasons: { [nasty]: 1 }, steps: [{ name: 'INVITE', sent: 1, received: 0, finals: 1, timeouts: 0, errors: 0, failed: 1, codes: { 486: 1 }, failures: { [`expected 200, got 486 ${nasty}`]: 1 }, service: { mean: 1, count: 1 } }] }] }],
    conformance: [{ id: 'to-tag', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error', text: nasty, passed: 0, failed: 1, examples: [`SIP/2.0 200 OK\r\nTo: ${nasty}\r\n`] }],
    workerErrors: [], failures: [],
  } as never);
  const dir = mkdtempSync(join(tmpdir(), 'junit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'j.xml'), xml);
  t.notMatch(xml, /[\u0000\u0001]/, 'no control characters');
  if (xmllint) t.ok(xmlValid(join(dir, 'j.xml')).ok, 'still valid XML against the XSD');
});

t.test('abortOnFail: a failing threshold stops the run early, exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-abort-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'abort.yaml');
  writeFileSync(file, "load: { rate: 20, duration: 60s }\nthresholds:\n  - expr: 'failed.count == 0'\n    abortOnFail: true\n    delayAbortEval: 1s\nsteps:\n  - send: INVITE\n    to: 'sip:nobody@${target.host}:${target.port}'\n    expect: 200\n");
  const started = Date.now();
  const r = run(['run', file]);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 1);
  t.ok(Date.now() - started < 20_000, 'stopped long before the 60 s duration');
  t.match(r.stderr, /threshold failed\.count == 0 \(got \d+\) failed: stopping the run \(abortOnFail\)/);
  const result = JSON.parse(readFileSync(join(r.dir, 'result.json'), 'utf8'));
  t.match(result.abortedBy, /^failed\.count == 0/);
  t.equal(result.totals.started, result.totals.passed + result.totals.failed + result.totals.running);
  t.ok(validateResult(result));
});
