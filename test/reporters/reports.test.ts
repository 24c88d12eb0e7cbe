// Reports a CI server reads: the JSON result validates against its schema,
// the JUnit XML validates against the JUnit XSD we ship (schemas/junit.xsd,
// with xmllint: missing, it fails the test under CI=true), failing runs give
// failing testcases with useful messages, thresholds set the exit code and
// print their values in a unit, and any bytes a server sends are escaped right.

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
const xsd = join(root, 'schemas/junit.xsd');
const xmllint = spawnSync('xmllint', ['--version'], { encoding: 'utf8' }).status === 0;
const ci = process.env.CI === 'true';

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
  const junit = readFileSync(join(r.dir, 'junit.xml'), 'utf8');
  t.match(junit, /<testcase name="step\.REGISTER\.p99 &lt; 5s" classname="sipstorm\.run\.thresholds"/);
  t.match(junit, /<testcase name="REGISTER" classname="sipstorm\.run\.register-auth\.main" time="0\.\d{3}"\/>/, 'a step of a role, its time one execution\'s (well under a second)');
  t.notMatch(junit, /classname="[^"]*\//, 'no classname is a file path');
  t.match(junit, /<testsuites name="sipstorm run" tests="(\d+)" failures="0"/);
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
  t.match(junit, /<testsuite name="sipstorm\.run\.busy\.main" tests="2" failures="1" errors="0" skipped="0"/, 'the step and the instances');
  t.match(junit, /<failure message="4 of 4 failed: 4 × expected 2xx, got 404" type="expectation">/);
  t.match(junit, /<testcase name="failed\.rate &lt; 0\.1%" classname="sipstorm\.run\.thresholds" time="0\.000">\s*<failure message="failed\.rate &lt; 0\.1%: got 100%"/, 'the value in the threshold\'s unit');
  t.match(r.stdout, /✗ failed\.rate < 0\.1% {2}\(100%\)/);
  t.match(r.stdout, /FAILED: 4 started, 0 passed, 4 failed; 1 threshold failed$/m);
  t.match(junit, /<testsuites name="sipstorm run" tests="\d+" failures="2"/, 'two testcases failed: the step and the threshold');
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
  t.match(r.stderr, /^sipstorm: --threshold: threshold 'step\.OPTIONS\.p99 <<< 5': expected a number at column 19/);
  t.notOk(existsSync(join(r.dir, 'result.json')), 'nothing ran');
});

t.test('a threshold naming a step, role or metric that does not exist is bad input before any traffic', async (t) => {
  const r = run(['run', 'scenarios/options.yaml', '--threshold', 'step.NOPE.p99 < 1ms']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 2);
  t.equal(r.stderr, "sipstorm: --threshold: threshold 'step.NOPE.p99 < 1ms': no step 'NOPE' (steps: OPTIONS)\n", 'one line naming the flag');
  t.equal(r.stdout, '', 'nothing started: not even the embedded server line');
  t.notOk(existsSync(join(r.dir, 'result.json')), 'nothing ran');
  const role = run(['run', 'scenarios/options.yaml', '--threshold', 'step.caller/OPTIONS.p99 < 1ms']);
  t.teardown(() => rmSync(role.dir, { recursive: true, force: true }));
  t.equal(role.status, 2);
  t.match(role.stderr, /no role 'caller' \(roles: main\)/);
  const unit = run(['run', 'scenarios/options.yaml', '--threshold', 'failed.count < 5ms']);
  t.teardown(() => rmSync(unit.dir, { recursive: true, force: true }));
  t.equal(unit.status, 2);
  t.match(unit.stderr, /'failed\.count' is a count, not a time/);

  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-th-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'typo.yaml');
  writeFileSync(file, "load: { total: 1 }\nthresholds:\n  - 'step.OPTIONS.p99 < 1s'\n  - 'step.REGISTR.p99 < 1s'\nsteps:\n  - send: OPTIONS\n    expect: 200\n");
  const f = run(['run', file]);
  t.teardown(() => rmSync(f.dir, { recursive: true, force: true }));
  t.equal(f.status, 2);
  t.equal(f.stderr, `sipstorm: ${file}:4:5: threshold 'step.REGISTR.p99 < 1s': no step 'REGISTR' (steps: OPTIONS)\n`, 'file:line:col of the threshold');
  const v = spawnSync(process.execPath, ['dist/cli/main.js', 'validate', file], { cwd: root, encoding: 'utf8' });
  t.equal(v.status, 2, 'validate says so too');
  t.match(v.stderr, /typo\.yaml:4:5: .*no step 'REGISTR'/);
});

t.test('a failed latency threshold prints its value with a unit, in the console and JUnit', async (t) => {
  const r = run(['run', 'scenarios/options.yaml', '--total', '5', '--threshold', 'step.OPTIONS.p99 < 1us', '--threshold', 'step.OPTIONS.max < 60s']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 1);
  t.match(r.stdout, /✗ step\.OPTIONS\.p99 < 1us {2}\(\d+(\.\d+)? (us|ms)\)/, 'a time, with its unit');
  t.match(r.stdout, /✓ step\.OPTIONS\.max < 60s {2}\(\d+(\.\d+)? (us|ms)\)/);
  const junit = readFileSync(join(r.dir, 'junit.xml'), 'utf8');
  t.match(junit, /<failure message="step\.OPTIONS\.p99 &lt; 1us: got \d+(\.\d+)? (us|ms)" type="threshold">/);
  const html = readFileSync(join(r.dir, 'report.html'), 'utf8');
  t.match(html, /step\.OPTIONS\.p99 &lt; 1us.*\d+(\.\d+)? (us|ms)/);
});

// Outside CI a machine without xmllint skips (saying so); under CI=true it fails.
t.test('the JUnit XSD check runs: xmllint is there (CI never skips it), and the XSD rejects a malformed report', { skip: !xmllint && !ci && 'xmllint is not installed (Debian package libxml2-utils)' }, async (t) => {
  if (!xmllint) {
    t.fail('xmllint is not installed (Debian package libxml2-utils); CI must have it to validate the JUnit reports');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'junit-xsd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.xml'), '<?xml version="1.0"?>\n<testsuites><testsuite name="x" tests="1" failures="one" errors="0"><testcase/></testsuite></testsuites>\n');
  const bad = xmlValid(join(dir, 'bad.xml'));
  t.notOk(bad.ok, 'a count that is not a number and a testcase without a name are refused');
  t.match(bad.out, /failures|name/);
});

t.test('XML escaping of anything a server sends back', async (t) => {
  t.equal(xmlEscape('a<b>&"c\'\u0000\u0007\u001b\uFFFE😀'), 'a&lt;b&gt;&amp;&quot;c&apos;😀');
  const nasty = 'Busy <Here> & "there" \u0000\u0001 ]]> \uD800';
  const xml = renderJunit({
    totals: { started: 1, passed: 0, failed: 1, running: 0, dropped: 0, verdict: 'failed' }, durationMs: 5, thresholds: [],
    startedAt: new Date().toISOString(), interrupted: false,
    scenarios: [{ name: nasty, file: 'x.yaml', startedAt: new Date().toISOString(), durationMs: 5, roles: [{ role: 'main', started: 1, passed: 0, failed: 1, running: 0, dropped: 0, failureReasons: { [nasty]: 1 }, duration: { count: 1, mean: 1 }, steps: [{ name: 'INVITE', sent: 1, received: 0, finals: 1, timeouts: 0, errors: 0, failed: 1, codes: { 486: 1 }, failures: { [`expected 200, got 486 ${nasty}`]: 1 }, service: { mean: 1, count: 1 } }] }] }],
    conformance: [{ id: 'to-tag', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error', text: nasty, passed: 0, failed: 1, examples: [`SIP/2.0 200 OK\r\nTo: ${nasty}\r\n`] }],
    workerErrors: [], failures: [],
  } as never);
  const dir = mkdtempSync(join(tmpdir(), 'junit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'j.xml'), xml);
  t.notMatch(xml, /[\u0000\u0001]/, 'no control characters');
  t.match(xml, /classname="sipstorm\.run\.Busy_Here_there_\.main"/, 'a classname of safe characters only');
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

t.test('merge and report write the same truthful JUnit: one verdict, counts equal, stable classnames', async (t) => {
  const a = run(['run', 'scenarios/options.yaml', '--total', '6', '--shard', '1/2']);
  const b = run(['run', 'scenarios/options.yaml', '--total', '6', '--shard', '2/2', '--threshold', 'step.OPTIONS.p99 < 1us']);
  t.teardown(() => [a, b].forEach((x) => rmSync(x.dir, { recursive: true, force: true })));
  t.equal(a.status, 0);
  t.equal(b.status, 1, 'the shard with a threshold it cannot meet fails');
  const { mergeResults, verdictOf } = await import('../../engine/metrics/index.js');
  const results = [a, b].map((x) => JSON.parse(readFileSync(join(x.dir, 'result.json'), 'utf8')));
  const merged = mergeResults(results);
  t.same([merged.totals.verdict, merged.exitCode, merged.totals.started], ['failed', 1, 6], 'the merged verdict: the threshold, evaluated again, fails');
  const xml = renderJunit(merged);
  const failures = (xml.match(/<failure /g) ?? []).length;
  t.equal(failures, verdictOf(merged).items.filter((i) => i.outcome === 'failed').length);
  t.equal(failures, 1, 'the threshold, and nothing else');
  t.match(xml, /<testsuites name="sipstorm run" tests="\d+" failures="1"/);
  t.match(xml, /<testcase name="OPTIONS" classname="sipstorm\.run\.options\.main"/, 'the same classname as a single run\'s');
  // `report` re-renders a saved result's JUnit byte for byte.
  const again = join(b.dir, 'again.xml');
  const rep = spawnSync(process.execPath, ['dist/cli/main.js', 'report', join(b.dir, 'result.json'), '--junit', again], { cwd: root, encoding: 'utf8' });
  t.equal(rep.status, 1, 'report gives the saved result\'s verdict');
  t.equal(readFileSync(again, 'utf8'), readFileSync(join(b.dir, 'junit.xml'), 'utf8'));
  if (xmllint) {
    const dir = mkdtempSync(join(tmpdir(), 'junit-merge-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'merged.xml'), xml);
    t.ok(xmlValid(join(dir, 'merged.xml')).ok, 'the merged JUnit validates');
  }
});
