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
  t.ok(cases >= 61, `${cases} cases: 49 torture messages and the rfc3261 suite`);
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  t.match(junit, /<testcase name="[^"]*badinv01\.dat \(RFC 4475 §3\.1\.2\.1\)/, 'each case is a JUnit testcase named with its RFC section');
});

t.test('a broken server: the cases it breaks fail, citing the RFC section', async (t) => {
  // Every valid new request but CANCEL answered 503: what needs 405, 415, 416, 420, 481 or a 2xx now fails. Requests
  // refused before the knob applies (a malformed CSeq: 400, SIP/3.0: 505), CANCEL (481) and what may go unanswered pass.
  const r = await runCli(['conform', '--fault-error', '1', '--fault-code', '503', '--suite', 'rfc3261'], { keep: true });
  t.equal(r.status, 1);
  const failed = failedCases(r.result);
  t.same(failed, [
    'rfc3261/bye-unknown-dialog', 'rfc3261/max-forwards-zero', 'rfc3261/options-answered',
    'rfc3261/unknown-method', 'rfc3261/unknown-scheme', 'rfc3261/unsupported-content-type', 'rfc3261/unsupported-require',
  ].sort());
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  t.match(junit, /<failure message="[^"]*RFC 3261 §8\.2\.2\.3: a Require naming an unknown extension is answered 420 with Unsupported: expected 420, got 503/);
});

t.test('against Kamailio: a verdict, and every failure a known deviation', { skip: !kamailioAvailable() && 'kamailio not installed' }, async (t) => {
  const k = await startKamailio();
  t.teardown(() => k.stop());
  const r = await runCli(['conform', '--target', `127.0.0.1:${k.port}`], { keep: true });
  t.equal(r.status, 1, 'Kamailio (with the test config) does not pass every case');
  t.equal(r.result.totals.verdict, 'failed');
  const known = readFileSync(`${fixtures}kamailio/known-deviations.tsv`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[0]!).sort();
  t.same(failedCases(r.result), known, 'the failures are exactly the known deviations, each with its RFC text');
  t.ok(r.result.totals.passed >= 40, `${r.result.totals.passed} cases passed`);
});
