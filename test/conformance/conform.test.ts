// `sipstorm conform`: the torture and rfc3261 suites against the embedded
// server (every case passes), against a server broken on purpose (the cases
// it breaks fail, citing their RFC section), and against real Kamailio (a
// verdict whose every failure is a known deviation with the RFC text behind
// it, test/fixtures/kamailio/known-deviations.tsv). Plus the pieces: how an
// expectation reads and how a torture message is readdressed.

import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseExpectation, judge, rewriteTopVia } from '../../engine/suites/index.js';
import { runCli } from '../support/cli.js';
import { kamailioAvailable, startKamailio } from '../support/kamailio.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;
const failedCases = (result: { scenarios: { name: string; roles: { steps: { name: string; failed: number }[] }[] }[] }) =>
  result.scenarios.flatMap((s) => s.roles[0]!.steps.filter((st) => st.failed > 0).map((st) => `${s.name}/${st.name.replace(/ \(.*$/, '')}`)).sort();

t.test('expectations read the way the RFC text does', async (t) => {
  const e = parseExpectation('400|drop');
  t.equal(judge(e, 400), undefined);
  t.equal(judge(e, undefined), undefined, 'no answer is acceptable');
  t.equal(judge(e, 200), 'expected 400|drop, got 200');
  t.equal(judge(parseExpectation('!400'), 404), undefined);
  t.equal(judge(parseExpectation('!400'), undefined), 'expected !400, got no answer', 'an answer is needed');
  t.equal(judge(parseExpectation('2xx|401'), 202), undefined);
  t.equal(judge(parseExpectation('any'), undefined), undefined);
  t.throws(() => parseExpectation('40x'), /'40x' is not a code/);
});

t.test('a torture message keeps its bytes but for the top Via, readdressed to the tester', async (t) => {
  const wsinv = readFileSync(`${fixtures}rfc4475/wsinv.dat`);
  const out = rewriteTopVia(wsinv, '127.0.0.1:4000');
  t.match(out.toString('latin1'), /\r\nVia  : SIP  \/   2\.0\r\n \/UDP\r\n    127\.0\.0\.1:4000;rport;branch=390skdjuw\r\n/, 'the folded Via, sent-by replaced');
  t.equal(out.length - wsinv.length, '127.0.0.1:4000;rport'.length - '192.0.2.2'.length, 'nothing else changed in size');
  t.equal(out.toString('latin1').replace('127.0.0.1:4000;rport', '192.0.2.2'), wsinv.toString('latin1'), 'nothing else changed at all');
  const novelsc = rewriteTopVia(readFileSync(`${fixtures}rfc4475/novelsc.dat`), '127.0.0.1:4000').toString('latin1');
  t.match(novelsc, /Via: SIP\/2\.0\/UDP 127\.0\.0\.1:4000;rport;/, 'a TCP Via becomes UDP, the transport the tester listens on');
  const response = readFileSync(`${fixtures}rfc4475/unreason.dat`);
  t.same(rewriteTopVia(response, '127.0.0.1:4000'), response, 'a response goes out as it is');
});

t.test('sipstorm conform passes against the embedded server', async (t) => {
  const r = await runCli(['conform'], { keep: true });
  t.equal(r.status, 0, r.out.slice(-3000));
  t.match(r.stdout, /RFC 4475 §3\.1\.2\.8 +1 +0 +0/, 'a summary per RFC section');
  t.same(failedCases(r.result), []);
  const cases = r.result.scenarios.reduce((a: number, s: { roles: { started: number }[] }) => a + s.roles[0]!.started, 0);
  t.ok(cases >= 83, `${cases} cases: 49 torture messages, rfc3261, register, presence, message and auth`);
  for (const suite of ['register', 'presence', 'message', 'auth']) t.ok(r.result.scenarios.some((s: { name: string }) => s.name === suite), `the ${suite} suite ran`);
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  t.match(junit, /<testcase name="[^"]*badinv01\.dat \(RFC 4475 §3\.1\.2\.1\)/, 'each case is a JUnit testcase named with its RFC section');
});

t.test('a broken server: the cases it breaks fail, citing the RFC section', async (t) => {
  // Every valid new request but CANCEL answered 503: what needs 405, 415, 416, 420, 481 or a 2xx now fails. Requests
  // refused before the knob applies (a malformed CSeq: 400, SIP/3.0: 505), CANCEL (481), what may go unanswered and the
  // 503 retransmitted to an INVITE pass; the cases that need a call do not apply (their INVITE gets 503).
  const r = await runCli(['conform', '--fault-error', '1', '--fault-code', '503', '--suite', 'rfc3261'], { keep: true });
  t.equal(r.status, 1);
  const failed = failedCases(r.result);
  t.same(failed, [
    'rfc3261/bye-unknown-dialog', 'rfc3261/max-forwards-zero', 'rfc3261/options-answered', 'rfc3261/retransmission-answered',
    'rfc3261/unknown-method', 'rfc3261/unknown-scheme', 'rfc3261/unsupported-content-type', 'rfc3261/unsupported-require',
  ].sort());
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  for (const id of ['cancel-before-final', 'cancel-after-final', 'in-dialog-cseq-lower', '2xx-retransmitted', 'merged-request']) {
    t.match(r.stdout, new RegExp(`n/a rfc3261 ${id} .*not applicable: INVITE answered 503`), `${id}: not applicable`);
  }
  t.match(junit, /<failure message="[^"]*RFC 3261 §8\.2\.2\.3: a Require naming an unknown extension is answered 420 with Unsupported: expected 420, got 503/);
});

t.test('steps: each way a step can fail says what it expected and what came', async (t) => {
  const r = await runCli(['conform', '--suite-dir', `${fixtures}suites-steps`, '--answer-wait', '1s'], { keep: true });
  t.equal(r.status, 1);
  const line = (id: string) => r.stdout.split('\n').find((l: string) => l.includes(` wrong ${id} `)) ?? '';
  t.match(line('match-misses'), /✗ .*— the 200 answer has no Contact matching \/<sip:someone-else@\/ \(it has: <sip:user\d+@127\.0\.0\.1:\d+>;expires=\d+\)/);
  t.match(line('absent-present'), /✗ .*— the 200 answer has Contact matching \/<sip:user\d+@127\\\.0\\\.0\\\.1:\d+>\//);
  t.match(line('never-sent'), /✗ .*step 2: no NOTIFY from the server within 1 s/);
  t.match(line('nothing-to-capture'), /✗ .*— the 200 answer has nothing to take for \$\{etag\} \(SIP-ETag\)/);
  t.match(line('challenge-unanswered'), /✗ .*— expected 2xx, got 401/);
  t.same(failedCases(r.result), ['wrong/absent-present', 'wrong/challenge-unanswered', 'wrong/match-misses', 'wrong/never-sent', 'wrong/nothing-to-capture']);
  const failure = r.result.scenarios[0].failures.find((f: { user: string }) => f.user === 'match-misses');
  const steps = failure.ladder.map((m: { dir: string; firstLine: string }) => `${m.dir} ${m.firstLine.startsWith('SIP/2.0') ? m.firstLine.split(' ')[1] : m.firstLine.split(' ')[0]}`);
  t.same(steps, ['sent REGISTER', 'received 401', 'sent REGISTER', 'received 200'], 'the ladder has every message of the case: the challenge round and the answer');
});

t.test('a step file that is wrong is one line naming the case and step', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/suite-`);
  writeFileSync(`${dir}/bad.yaml`, 'name: bad\ncases:\n  - id: one\n    rfc: RFC 3261\n    section: "10"\n    title: x\n    steps:\n      - { send: "OPTIONS x SIP/2.0", expect: 200, auth: sha1 }\n');
  const r = await runCli(['conform', '--suite-dir', dir]);
  t.equal(r.status, 2);
  t.match(r.stderr, /case 1 \(one\) step 1: 'auth' must be one of answer, MD5, SHA-256, wrong-password, unknown-nonce, replay/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack');
});

t.test('against Kamailio: a verdict, and every failure a known deviation', { skip: !kamailioAvailable() && 'kamailio not installed' }, async (t) => {
  const k = await startKamailio();
  t.teardown(() => k.stop());
  // --domain: Kamailio's own domain (its listen address) in every Request-URI and To, so that a relay policy
  // ('403 Not relaying' to foreign domains, as in Kamailio's sample config) cannot decide a parsing verdict.
  const r = await runCli(['conform', '--target', `127.0.0.1:${k.port}`, '--domain', `127.0.0.1:${k.port}`], { keep: true });
  t.equal(r.status, 1, 'Kamailio (with the test config) does not pass every case');
  t.notMatch(r.stdout, /^ {2}\S+ \S+ \S+ \(RFC [^)]*\): 403\b/m, 'no case is answered 403: no request names a foreign domain');
  t.equal(r.result.totals.verdict, 'failed');
  const known = readFileSync(`${fixtures}kamailio/known-deviations.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]!).sort();
  t.same(failedCases(r.result), known, 'the failures are exactly the known deviations, each with its RFC text');
  t.ok(r.result.totals.passed >= 55, `${r.result.totals.passed} cases passed`);
  t.match(r.stdout, /n\/a auth sha-256 \(RFC 8760 §2\.3\): 401 — not applicable: the server offers no SHA-256 challenge/, 'a case that does not apply says so');
  t.match(r.stdout, /✓ message relayed-to-binding/, 'Kamailio relays a MESSAGE to the tester\'s own binding');
  t.match(r.stdout, /✓ presence subscribe-notify-unsubscribe/, 'and sends the NOTIFYs a subscription asks for');
});
