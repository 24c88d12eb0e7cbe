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
import { sippAvailable, startSipp } from '../support/sipp.js';
import { freePort } from '../support/ports.js';
import dgram from 'node:dgram';

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
  t.match(junit, /<testcase name="badinv01\.dat \(RFC 4475 §3\.1\.2\.1\)" classname="sipstorm\.conform\.torture" time="\d+\.\d{3}"\/>/, 'each case is a JUnit testcase named with its RFC section');
  t.match(junit, /<testsuites name="sipstorm conform" tests="\d+" failures="0" errors="0"/, 'no failure: a case whose right answer is silence passed');
  t.notMatch(junit, /<failure/);
  const silent = r.result.scenarios.flatMap((s: { cases: { id: string; got: string; outcome: string }[] }) => s.cases.filter((c) => c.got === 'no answer'));
  t.ok(silent.length >= 5, `${silent.length} cases got no answer`);
  t.ok(silent.every((c: { outcome: string }) => c.outcome === 'passed'), 'where silence was right, a pass');
  t.match(junit, /<testcase name="insuf\.dat \(RFC 4475 §[\d.]+\)" classname="sipstorm\.conform\.torture" time="\d+\.\d{3}"\/>/, 'insuf.dat passes');
  const caseTimes = [...junit.matchAll(/classname="sipstorm\.conform\.torture" time="([\d.]+)"/g)].map((m) => Number(m[1]));
  const suiteTime = Number(/<testsuite name="sipstorm\.conform\.torture" [^>]*time="([\d.]+)"/.exec(junit)![1]);
  t.equal(caseTimes.length, 49);
  t.ok(caseTimes.reduce((a, b) => a + b, 0) <= suiteTime + 0.05, 'case times are wall times: together no more than the suite took');
  t.match(r.stdout, /^PASSED: 83 cases: 83 passed, 0 failed, 0 not applicable, 0 not run$/m, 'the closing line');
  t.same({ ...r.result.totals, started: undefined }, { passed: 83, failed: 0, notApplicable: 0, notRun: 0, running: 0, dropped: 0, verdict: 'passed', started: undefined });
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
  // One count everywhere: the JSON's totals, the console's closing line and the JUnit's failed testcases.
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  const failedTestcases = (junit.match(/<failure /g) ?? []).length;
  const skippedTestcases = (junit.match(/<skipped /g) ?? []).length;
  t.equal(failedTestcases, r.result.totals.failed, 'failed testcases in junit.xml = totals.failed');
  t.equal(failedTestcases, known.length);
  t.equal(skippedTestcases, r.result.totals.notApplicable + r.result.totals.notRun, 'not applicable and not run are <skipped>');
  t.equal(Number(/<testsuites [^>]*failures="(\d+)"/.exec(junit)![1]), r.result.totals.failed, '<testsuites failures> too');
  const t2 = r.result.totals;
  t.match(r.stdout, new RegExp(`^FAILED: ${t2.passed + t2.failed + t2.notApplicable + t2.notRun} cases: ${t2.passed} passed, ${t2.failed} failed, ${t2.notApplicable} not applicable, ${t2.notRun} not run$`, 'm'), 'the console says the same');
  const list = r.stdout.slice(r.stdout.indexOf(`failed cases (${t2.failed}):\n`)).split('\n').slice(1);
  t.equal(list.findIndex((l: string) => !/^ {2}✗ /.test(l)), t2.failed, 'the console lists every failed case after the per-section table');
  t.notMatch(junit, /classname="[^"]*[/\\]/, 'no classname is a file path');
  t.match(junit, /<testcase name="sha-256 \(RFC 8760 §2\.3\)" classname="sipstorm\.conform\.auth" time="[\d.]+">\s*<skipped message="not applicable: the server offers no SHA-256 challenge"\/>/);
  t.match(junit, /<failure message="RFC 4475 §3\.1\.1\.1: [^"]*expected !400, got no answer" type="conformance">[^<]*expected: !400\ngot: no answer/, 'a failure says the section, what was expected and what came');
  t.match(r.stdout, /n\/a auth sha-256 \(RFC 8760 §2\.3\): 401 — not applicable: the server offers no SHA-256 challenge/, 'a case that does not apply says so');
  t.match(r.stdout, /✓ message relayed-to-binding/, 'Kamailio relays a MESSAGE to the tester\'s own binding');
  t.match(r.stdout, /✓ presence subscribe-notify-unsubscribe/, 'and sends the NOTIFYs a subscription asks for');
});

/** Waits until something answers an OPTIONS on 127.0.0.1:port (a peer that has just been started). */
async function answering(port: number, ms = 10_000): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let up = false;
  sock.on('message', () => (up = true));
  const deadline = Date.now() + ms;
  for (let i = 0; !up && Date.now() < deadline; i++) {
    const lp = sock.address().port;
    sock.send(`OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${lp};branch=z9hG4bKready${i}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1:${port}>\r\nCall-ID: ready-${i}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
  }
  sock.close();
  return up;
}

t.test('a server that asks for no credentials: the digest cases do not apply (they never answered a challenge)', { skip: !sippAvailable() && process.env.CI !== 'true' && 'sipp not installed' }, async (t) => {
  t.ok(sippAvailable(), 'SIPp is installed (Debian package sip-tester)');
  if (!sippAvailable()) return;
  const port = await freePort();
  // SIPp as a registrar that answers every REGISTER and OPTIONS 200 at once.
  const sipp = startSipp(['-sf', `${fixtures}sipp/registrar-no-auth.xml`, '-i', '127.0.0.1', '-p', String(port), '-timeout', '120s'], { timeoutMs: 150_000 });
  t.teardown(() => sipp.kill());
  t.ok(await answering(port), 'SIPp answers');
  const r = await runCli(['conform', '--target', `127.0.0.1:${port}`, '--suite', 'auth', '--answer-wait', '1s'], { keep: true });
  const cases = Object.fromEntries(r.result.scenarios[0].cases.map((c: { id: string; outcome: string; reason?: string }) => [c.id, c]));
  for (const id of ['md5', 'sha-256', 'wrong-password', 'unknown-nonce', 'nonce-count-replay']) {
    t.equal(cases[id].outcome, 'notApplicable', `${id}: not applicable`);
    t.match(cases[id].reason, /^the server asked for no credentials \(REGISTER answered 200 OK without a challenge\)$/);
  }
  t.equal(cases.challenge.outcome, 'failed', 'the challenge case says the server does not authenticate');
  t.match(r.stdout, /^FAILED: 6 cases: 0 passed, 1 failed, 5 not applicable, 0 not run$/m);
  t.same([r.result.totals.passed, r.result.totals.failed, r.result.totals.notApplicable], [0, 1, 5]);
  t.equal(r.status, 1);
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  t.equal((junit.match(/<skipped message="not applicable: the server asked for no credentials/g) ?? []).length, 5, 'skipped in JUnit, saying why');
});

t.test('a server that stops answering mid-suite: one case failed, the rest not run, the same counts everywhere', async (t) => {
  // The embedded server holds every request from 2 s after its start: the case then under way fails (its liveness
  // OPTIONS goes unanswered), the cases after it are not run (not failed).
  const r = await runCli(['conform', '--suite', 'rfc3261,torture', '--fault-pause', '60000@2000'], { keep: true });
  t.equal(r.status, 1);
  const totals = r.result.totals;
  t.equal(totals.failed, 1, 'one case failed: the one after which the server went quiet');
  t.ok(totals.notRun > 0, `${totals.notRun} cases not run`);
  t.equal(totals.started, totals.passed + totals.failed + totals.notApplicable + totals.running, 'started balances');
  t.equal(totals.started + totals.notRun, 68, 'every case of the two suites is counted once');
  t.match(r.stdout, new RegExp(`^FAILED: 68 cases: ${totals.passed} passed, 1 failed, ${totals.notApplicable} not applicable, ${totals.notRun} not run$`, 'm'));
  t.match(r.stdout, new RegExp(`^  - ${totals.notRun} cases not run: the server stopped answering after rfc3261/`, 'm'));
  const junit = readFileSync(`${r.dir}/junit.xml`, 'utf8');
  t.equal((junit.match(/<failure /g) ?? []).length, 1, 'one failed testcase');
  t.equal((junit.match(/<skipped message="not run: the server stopped answering after rfc3261\//g) ?? []).length, totals.notRun, 'not run: <skipped>, saying why');
  t.match(junit, /<failure message="RFC 3261 §[\d.]+: [^"]*the server stopped answering OPTIONS after this case"/);
});
