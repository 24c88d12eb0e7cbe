// `sipstorm run scenarios/` with no target (what `npm start` does): every
// bundled scenario passes against the embedded server on 2 workers, the
// reports land in the output folder, and every count balances.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kdcAvailable } from '../support/kdc.js';

const root = new URL('../../../', import.meta.url).pathname;

t.test('every bundled scenario passes against the embedded server', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'sipstorm-run-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/', '--workers', '2', '--out', out], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, `exit 0\n${r.stdout.slice(-3000)}\n${r.stderr}`);
  t.match(r.stdout, /PASSED: \d+ started, \d+ passed, 0 failed/);
  t.match(r.stdout, /embedded server at sip:127\.0\.0\.1:\d+/, 'says where the traffic goes');
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  t.equal(result.totals.verdict, 'passed');
  t.equal(result.totals.started, result.totals.passed + result.totals.failed + result.totals.running, 'started = passed + failed + running');
  t.equal(result.totals.failed, 0);
  const names = result.scenarios.map((s: { name: string }) => s.name).sort();
  // register-kerberos needs Debian's krb5-kdc for the KDC `run` starts; without it `run` skips it, saying so.
  const kerberos = kdcAvailable() ? ['register-kerberos'] : [];
  t.same(names, ['cancel', 'message', 'options', 'presence', 'register-auth', ...kerberos, 'register-ntlm', 'service', 'uac-call', 'uac-call-media', 'uas-call']);
  for (const s of result.scenarios) {
    for (const role of s.roles) {
      for (const st of role.steps) {
        if (st.sent > 0) t.equal(st.sent, st.finals + st.timeouts + st.errors, `${s.name}/${role.role}/${st.name}: sent = finals + timeouts + errors`);
      }
    }
  }
  const reg = result.scenarios.find((s: { name: string }) => s.name === 'register-auth').roles[0].steps[0];
  t.equal(reg.codes['401'], reg.sent, 'each REGISTER was challenged once (challenge recorded)');
  t.equal(reg.codes['200'], reg.sent, 'and then accepted (final recorded)');
  const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
  t.match(junit, /<testsuites name="sipstorm run" tests="\d+" failures="0"/);
  // uac-call-media: audio both ways with the embedded server's RTP echo.
  t.equal(result.media.streams, 5, 'uac-call-media: one stream per call');
  t.equal(result.media.oneWay, 0, 'uac-call-media: audio came back on every call');
});

t.test('a failing expectation names the step, the code expected and the code received; exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-fail-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'wrong.yaml');
  writeFileSync(file, "load: { total: 3, rate: 10 }\nsteps:\n  - send: INVITE\n    to: 'sip:nobody@${target.host}:${target.port}'\n    expect: 200\n");
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'run', file, '--workers', '1', '--out', dir], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 1, 'exit 1: an expectation failed');
  t.match(r.stdout, /3 × step 1 'INVITE': expected 200, got 404 Not Found/);
  const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
  t.match(junit, /<failure message="3 of 3 failed: 3 × expected 200, got 404"/);
});
