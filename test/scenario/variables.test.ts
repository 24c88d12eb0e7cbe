// Variables from the command line and in expectations: --var NAME=VALUE,
// every --users-csv column, templates inside 'expect' (header regular
// expressions with escaped values, body text), and validate knowing them.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { compileScenarioText, type TemplateVars } from '../../engine/scenario/index.js';
import { parseMessage } from '../../engine/codec/index.js';
import { checkContent } from '../../engine/ua/expect.js';
import { ROOT, runCli } from '../support/cli.js';

const cli = (args: string[]) => spawnSync(process.execPath, ['dist/cli/main.js', ...args], { cwd: ROOT, encoding: 'utf8' });

t.test('a value filled into an expected regular expression matches itself literally', async (t) => {
  const s = compileScenarioText("steps:\n  - send: OPTIONS\n    expect:\n      code: 200\n      headers:\n        To: '^<sip:${who}@'\n      body: 'note ${who}.'\n", 'inline.yaml', { vars: { who: 'a.b+c' } });
  const step = s.roles[0]!.steps[0]!;
  if (step.kind !== 'send') throw new Error('not a send step');
  const vars: TemplateVars = { lookup: (n) => s.vars[n] };
  const msg = (to: string, body: string) => parseMessage(Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1\r\nFrom: <sip:x@h>;tag=1\r\nTo: ${to};tag=2\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
  const cache = new Map<string, RegExp>();
  t.equal(checkContent(step.expect, msg('<sip:a.b+c@h>', 'note a.b+c.'), cache, vars), undefined, 'the literal value matches');
  t.match(checkContent(step.expect, msg('<sip:aXbbc@h>', 'note a.b+c.'), cache, vars), /does not match \/\^<sip:a\\\.b\\\+c@\//, 'a look-alike does not: . and + were escaped');
  t.match(checkContent(step.expect, msg('<sip:a.b+c@h>', 'note other.'), cache, vars), /body does not contain 'note a\.b\+c\.'/, 'the body text is filled in too');
  t.equal(cache.size, 0, 'regular expressions made per UA are not cached');
});

t.test('expect templates against the embedded server: own user, host, port, peer and vars', async (t) => {
  const ok = await runCli(['run', 'test/fixtures/scenarios/expect-vars.yaml', '--workers', '1', '--no-reports'], { outDir: false });
  t.equal(ok.status, 0, ok.out.slice(-1500));
  t.match(ok.out, /PASSED: 4 started, 4 passed, 0 failed/);
  const other = await runCli(['run', 'test/fixtures/scenarios/expect-vars.yaml', '--workers', '1', '--no-reports', '--var', 'realm=elsewhere'], { outDir: false });
  t.equal(other.status, 1, '--var changes what is expected: the body no longer matches');
  t.match(other.out, /MESSAGE body does not contain 'hello from user1[12] in elsewhere'/);
});

t.test('--var NAME=VALUE sets a variable the file does not define', async (t) => {
  const missing = cli(['validate', 'test/fixtures/scenarios/callee.yaml']);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /^test\/fixtures\/scenarios\/callee\.yaml:8:9: step 1: undefined variable \$\{callee\}/);
  t.equal(cli(['validate', 'test/fixtures/scenarios/callee.yaml', '--var', 'callee=echo']).status, 0, 'validate knows it with --var');
  const r = await runCli(['run', 'test/fixtures/scenarios/callee.yaml', '--var', 'callee=echo', '--var', 'calee=typo', '--workers', '1', '--no-reports'], { outDir: false });
  t.equal(r.status, 0, r.out.slice(-1500));
  t.match(r.out, /PASSED: 2 started, 2 passed, 0 failed/);
  t.match(r.stderr, /warning: --var calee: no scenario uses \$\{calee\}/, 'a --var no scenario uses is pointed out');
  t.notMatch(r.stderr, /--var callee/, 'not the one in use');
  const runMissing = cli(['run', 'test/fixtures/scenarios/callee.yaml', '--no-reports']);
  t.equal(runMissing.status, 2, 'run without it: bad input before any traffic');
});

t.test('every --users-csv column is a variable, for validate and run', async (t) => {
  t.equal(cli(['validate', 'test/fixtures/scenarios/callee.yaml', '--users-csv', 'test/fixtures/scenarios/callees.csv']).status, 0);
  const r = await runCli(['run', 'test/fixtures/scenarios/callee.yaml', '--users-csv', 'test/fixtures/scenarios/callees.csv', '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-1500));
  const message = r.result.scenarios[0].roles[0].steps[0];
  t.equal(message.codes['200'], 2, 'both UAs reached their own callee (echo, service)');
});

t.test('bad --var is bad input naming the flag', async (t) => {
  for (const [arg, msg] of [
    ['callee', /--var must be NAME=VALUE, got 'callee'/],
    ['9x=1', /'9x' is not a variable name/],
    ['user=bob', /\$\{user\} is built in and cannot be set/],
    ['peer.user=bob', /\$\{peer\.user\} is built in/],
  ] as const) {
    const r = cli(['run', 'test/fixtures/scenarios/callee.yaml', '--var', arg, '--no-reports']);
    t.equal(r.status, 2, arg);
    t.match(r.stderr, msg);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('conform --var fills a suite case\'s ${NAME}', async (t) => {
  const ok = await runCli(['conform', '--suite-dir', 'test/fixtures/suites-var', '--var', 'callee=echo', '--no-reports'], { outDir: false });
  t.equal(ok.status, 0, ok.out.slice(-1500));
  t.match(ok.out, /PASSED: 1 started, 1 passed, 0 failed/);
  const without = await runCli(['conform', '--suite-dir', 'test/fixtures/suites-var', '--no-reports'], { outDir: false });
  t.equal(without.status, 1, 'without it the request names no one and the case fails');
});
