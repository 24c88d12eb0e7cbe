// What an attack on sipstorm broke, replayed by scripted servers over UDP and
// TCP (test/support/scripted-server.ts): a header that makes a backtracking
// regular expression run for minutes, a worker that stops answering and the
// Ctrl-C that must still end the run with reports, CANCEL and await steps
// that give up, reason phrases that vary with every answer, a 2xx whose
// Contact or To does not parse, Contact `*`, a repeated Content-Length, and
// terminal escapes in a reason phrase. Every run's counts balance.

import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkBalance } from '../../engine/metrics/index.js';
import { ROOT, runCli, type CliRun } from '../support/cli.js';
import { answer, ScriptedServer, type ScriptedRequest } from '../support/scripted-server.js';

const FIX = 'test/fixtures/hostile/';
const run = (args: string[], env?: Record<string, string>) => runCli([...args, '--workers', '1'], { env, timeoutMs: 60_000 });

async function serve(t: Test, onRequest: (r: ScriptedRequest) => void): Promise<ScriptedServer> {
  const server = await ScriptedServer.start({ onRequest });
  t.teardown(() => server.close());
  return server;
}

/** The checks every run here must pass: a result was written, and its counts balance. */
function balanced(t: Test, r: CliRun): void {
  t.ok(r.result, `result.json written (${r.out.slice(-300)})`);
  if (!r.result) return;
  t.same(checkBalance(r.result), [], 'counts balance');
  t.notMatch(r.out, /counts do not balance/);
  const tot = r.result.totals;
  t.equal(tot.started, tot.passed + tot.failed + tot.running, 'started = passed + failed + running');
}

const role = (r: CliRun) => r.result.scenarios[0].roles[0];

for (const transport of ['udp', 'tcp'] as const) {
  t.test(`${transport}: a Server header that makes a backtracking regex run for minutes fails the check at once`, async (t) => {
    const server = await serve(t, ({ msg, reply }) => {
      if (msg.method !== 'OPTIONS') return;
      reply(answer(msg, 200, 'OK', { toTag: 'h1', headers: [`Server: ${'Kamailio'.repeat(4 + Math.floor(Math.random() * 500))} (x86_64/linux)`, 'Allow: OPTIONS'] }));
    });
    const r = await run(['run', FIX + 'redos-server-header.yaml', '--target', server.target(transport)]);
    t.equal(r.status, 1, 'exit 1: the header does not match');
    balanced(t, r);
    t.equal(r.result.totals.failed, 3, 'every instance failed');
    const kind = `1 'OPTIONS': 200 header Server does not match /^([\\w.-]+/?[\\w.-]*\\s?)+$/`;
    t.same(Object.keys(role(r).failureReasons), [kind], 'on the check itself, long before the step or scenario timeout');
    t.ok(role(r).failureExamples[kind].every((e: string) => e.includes("header Server 'KamailioKamailio")), 'an example names the value');
  });
}

t.test('a pattern that needs backtracking is refused before any traffic, with file:line:col', async (t) => {
  const r = await runCli(['validate', 'test/fixtures/scenarios-bad/regex-backreference.yaml'], { outDir: false });
  t.equal(r.status, 2);
  t.match(r.stderr, /regex-backreference\.yaml:6:25: step 1: bad regular expression \/\^\(\\w\+\) \\1\$\/: backreferences \(\\1\) are not supported/);
});

t.test('a worker that stops answering is terminated by the watchdog; its instances count as failed', async (t) => {
  const server = await serve(t, ({ msg, reply }) => reply(answer(msg, 200, 'OK', { toTag: 'w', headers: ['Allow: OPTIONS'] })));
  const r = await run(['run', FIX + 'options-held.yaml', '--target', server.target('udp')], { SIPSTORM_FAULT_WORKER_HANG_MS: '2500', SIPSTORM_WORKER_WATCHDOG_MS: '3000' });
  t.equal(r.status, 1, 'exit 1');
  balanced(t, r);
  t.match(r.stderr, /sipstorm: worker 0 failed: WORKER_UNRESPONSIVE: no snapshot for \d+ s: terminated; its \d+ running instances count as failed/, 'said as it happened');
  t.equal(r.result.workerErrors[0].code, 'WORKER_UNRESPONSIVE');
  t.ok(role(r).failureReasons['worker unresponsive'] > 0, `its running instances failed as "worker unresponsive" (${JSON.stringify(role(r).failureReasons)})`);
  t.match(r.stdout, /worker 0 failed: WORKER_UNRESPONSIVE/, 'and in the summary');
});

t.test('the first Ctrl-C ends a run whose worker hangs, with reports (exit 130)', async (t) => {
  const server = await serve(t, ({ msg, reply }) => reply(answer(msg, 200, 'OK', { toTag: 'c', headers: ['Allow: OPTIONS'] })));
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['dist/cli/main.js', 'run', FIX + 'options-held.yaml', '--target', server.target('udp'), '--workers', '1', '--out', dir], {
    cwd: ROOT, env: { ...process.env, SIPSTORM_FAULT_WORKER_HANG_MS: '2500' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let interrupted = false;
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const status = await new Promise<number | null>((resolve) => {
    const look = (d: Buffer) => {
      out += d;
      // The worker says when it starts hanging; only then comes the one Ctrl-C.
      if (!interrupted && out.includes('injected worker hang')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.on('exit', (code) => resolve(code));
  });
  clearTimeout(killer);
  t.ok(interrupted, 'the worker hung');
  t.equal(status, 130, `exit 130 after one Ctrl-C (${out.slice(-400)})`);
  t.equal((out.match(/SIGINT: stopping/g) ?? []).length, 1, 'one Ctrl-C');
  t.match(out, /worker 0 failed: WORKER_UNRESPONSIVE: still running/);
  const file = join(dir, 'result.json');
  t.ok(existsSync(file), 'result.json written');
  const result = JSON.parse(readFileSync(file, 'utf8'));
  balanced(t, { result, out } as CliRun);
  t.equal(result.interrupted, true);
  t.equal(result.totals.verdict, 'failed', 'interrupted is never a pass');
  t.ok(result.scenarios[0].roles[0].failureReasons['worker unresponsive'] > 0, 'its running instances failed as "worker unresponsive"');
});

t.test('CANCEL to a server that rings only sometimes, and never sends 487: counts balance', async (t) => {
  const rings = new Map<string, boolean>();
  const server = await serve(t, ({ msg, reply }) => {
    if (msg.method === 'INVITE') {
      // Every other call rings; the others get nothing at all (not even 100), so no CANCEL may be sent (§9.1).
      if (!rings.has(msg.callId())) rings.set(msg.callId(), rings.size % 2 === 0);
      if (rings.get(msg.callId())) reply(answer(msg, 180, 'Ringing', { toTag: 'r' + rings.size, headers: ['Contact: <sip:ringing@127.0.0.1>'] }));
    } else if (msg.method === 'CANCEL') reply(answer(msg, 200, 'OK', { toTag: 'x' })); // ...and no 487 follows
  });
  const r = await run(['run', FIX + 'cancel-short.yaml', '--target', server.target('udp')]);
  t.equal(r.status, 1);
  balanced(t, r);
  const [invite, cancel, wait] = role(r).steps;
  t.equal(r.result.totals.failed, 4);
  t.equal(cancel.sent, 2, 'CANCEL sent for the two INVITEs that rang');
  t.equal(cancel.timeouts, 0, 'no timeout counted for a CANCEL never sent');
  t.equal(wait.sent, 0, 'the await step judged nothing');
  t.equal(wait.timeouts, 0, 'and counted no timeout');
  t.equal(invite.errors, 4, 'the INVITEs still unanswered when their instances ended are errors');
  t.same(Object.keys(role(r).failureReasons).sort(), [
    "2 'CANCEL': no provisional response to the INVITE, so no CANCEL could be sent",
    "3 'call final': no final response to 'call' within 1s",
  ]);
});

t.test('failure reasons are kinds: a server varying its reason phrase does not grow them', async (t) => {
  let n = 0;
  const server = await serve(t, ({ msg, reply }) => reply(answer(msg, 503, `Busy ${n++} ${Math.random()}`, { toTag: 'b' })));
  const r = await run(['run', FIX + 'options-many.yaml', '--target', server.target('udp')]);
  t.equal(r.status, 1);
  balanced(t, r);
  t.equal(r.result.totals.failed, 400);
  const kind = "1 'OPTIONS': expected 200, got 503";
  t.same(role(r).failureReasons, { [kind]: 400 }, 'one kind, 400 times');
  t.equal(role(r).failureExamples[kind].length, 3, 'three examples, with the reason phrase');
  t.match(role(r).failureExamples[kind][0], /^1 'OPTIONS': expected 200, got 503 Busy \d+ /);
  t.same(role(r).steps[0].failures, { 'expected 200, got 503': 400 });
  t.ok(JSON.stringify(r.result).length < 200_000, 'the result stays small');
});

for (const transport of ['udp', 'tcp'] as const) {
  t.test(`${transport}: a 2xx whose Contact or To does not parse fails the step at once with the parse error`, async (t) => {
    const calls = new Map<string, number>();
    const server = await serve(t, ({ msg, reply }) => {
      if (msg.method !== 'INVITE') return;
      if (!calls.has(msg.callId())) calls.set(msg.callId(), calls.size);
      const broken = calls.get(msg.callId())! % 2 === 0 ? { toTag: 'p', headers: ['Contact: <sip:service@127.0.0.1'] } : { to: '"unterminated <sip:service@127.0.0.1>;tag=p', headers: ['Contact: <sip:service@127.0.0.1>'] };
      reply(answer(msg, 200, 'OK', { ...broken, body: 'v=0\r\n', headers: [...broken.headers, 'Content-Type: application/sdp'] }));
    });
    const r = await run(['run', FIX + 'call-short.yaml', '--target', server.target(transport)]);
    t.equal(r.status, 1);
    balanced(t, r);
    const reasons = Object.keys(role(r).failureReasons).sort();
    t.same(reasons, ["1 'INVITE': 200 to INVITE unusable: SIP_PARSE_NAME_ADDR"], 'the parse error, not "no final response within 5s"');
    const examples = role(r).failureExamples[reasons[0]!].join('\n');
    t.match(examples, /Contact: missing '>'/);
    t.match(examples, /To: /);
    const invite = role(r).steps[0];
    t.equal(invite.finals, 2, 'the 2xx counted as the final response it was');
    t.equal(invite.timeouts, 0);
    t.same(invite.codes, { 200: 2 });
    const sample = r.result.failures[0];
    t.match(sample.reason, /unusable: (Contact|To): /, 'the failed call says why');
    t.ok(sample.ladder.some((e: { dir: string; firstLine: string }) => e.dir === 'received' && e.firstLine === 'SIP/2.0 200 OK'), 'and its ladder shows the 200');
  });
}

t.test("Contact '*' in a 2xx to INVITE and a repeated Content-Length fail MUST checks", async (t) => {
  const server = await serve(t, ({ msg, reply }) => {
    if (msg.method === 'INVITE') reply(answer(msg, 200, 'OK', { toTag: 's', headers: ['Contact: *'] }));
    else if (msg.method === 'BYE') reply(answer(msg, 200, 'OK', { headers: ['Content-Length: 0', 'Content-Length: 0'] }));
  });
  const r = await run(['run', FIX + 'call-short.yaml', '--target', server.target('udp')]);
  t.equal(r.status, 1, 'exit 1: a MUST check failed');
  balanced(t, r);
  t.equal(r.result.totals.passed, 2, 'the calls themselves went through');
  const failed = Object.fromEntries(r.result.conformance.filter((c: { failed: number }) => c.failed > 0).map((c: { id: string; examples: string[] }) => [c.id, c.examples[0]]));
  t.match(failed['response.dialog-contact'], /2xx to INVITE with 'Contact: \*'/);
  t.match(failed['response.content-length-once'], /Content-Length appears 2 times/);
});

t.test('a reason phrase with terminal escapes reaches the console escaped', async (t) => {
  const server = await serve(t, ({ msg, reply }) => reply(answer(msg, 503, '\u001b]0;pwned\u0007\u001b[2J\u009b31m\u202eevil', { toTag: 'e' })));
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--target', server.target('udp'), '--total', '2']);
  t.equal(r.status, 1);
  balanced(t, r);
  // eslint-disable-next-line no-control-regex
  t.notMatch(r.out, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/, 'no control character from the server on the terminal');
  t.match(r.stdout, /\\x1b\]0;pwned\\x07\\x1b\[2J\\x9b31m\\u202eevil/, 'shown escaped');
});
