// [MS-SIPAE] logins end to end, as the issue asks: a real MIT KDC (a realm
// made by the test, 100 user principals, sip/127.0.0.1 in a keytab) and
// `sipstorm serve --auth kerberos --keytab FILE` (and --auth ntlm) as child
// processes; 100 UAs log in, refresh, subscribe and call with signed messages
// (no second login: every later request carries a signature the server
// checks, and every answer a signature the UA checks); then a tampered
// signature sent by hand is refused with 403.

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SipaeClient, parseKdcAddress, type SipaeLogin } from '../../engine/auth/sipae/index.js';
import { ROOT, runCli } from '../support/cli.js';
import { kdcAvailable, startKdc } from '../support/kdc.js';
import { TestClient } from '../support/udp-client.js';

const USERS = 100;
type TapTest = { teardown(fn: () => unknown): void; equal: typeof t.equal; ok: typeof t.ok; match: typeof t.match };
if (!kdcAvailable() && process.env.CI === 'true') t.fail('krb5-kdc / krb5-admin-server are not installed, and CI=true: install them');
const skip = !kdcAvailable() && 'krb5-kdc / krb5-admin-server not installed';

async function serve(t: TapTest, args: string[]): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--transport', 'udp', '--auth-invite', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on udp 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.stderr!.on('data', (d) => { out += d; });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

function scenario(dir: string, auth: string): string {
  const file = join(dir, 'login.yaml');
  writeFileSync(file, `name: ms-login
timeout: 30s
users:
  count: ${USERS}
  user: 'user{n}'
  password: 'secret{n}'
auth: ${auth}
load:
  model: open
  rate: 50
  total: ${USERS}
steps:
  - send: REGISTER
    id: login
    expect: 200
  - send: REGISTER
    id: refresh
    expect: 200
  - send: SUBSCRIBE
    id: subscribe
    to: 'sip:\${user}@\${domain}'
    headers:
      Event: presence
      Expires: 0
    expect: 2xx
  - recv: NOTIFY
  - send: INVITE
    id: call
    to: 'sip:service@\${target.host}:\${target.port}'
    expect: 200
  - send: ACK
  - send: BYE
    id: hangup
    expect: 200
  - send: REGISTER
    id: unregister
    headers:
      Expires: 0
    expect: 200
`);
  return file;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function checkRun(t: TapTest, result: any, loginChallenges: number): void {
  const role = result.scenarios[0].roles[0];
  t.equal(role.passed, USERS, `${USERS} UAs passed`);
  const step = (name: string) => role.steps.find((s: { name: string }) => s.name === name);
  t.equal(step('login').challenges, loginChallenges, 'each login was challenged (Kerberos once, NTLM twice)');
  for (const name of ['refresh', 'subscribe', 'call', 'unregister']) {
    t.equal(step(name).passed, USERS, `${name}: ${USERS} passed`);
    t.equal(step(name).challenges, 0, `${name}: no second login (its signature was accepted)`);
  }
}

/** By hand: log in, then send a signed REGISTER whose signature was altered: 403. */
async function tamperedIsRefused(t: TapTest, port: number, login: SipaeLogin, scheme: string): Promise<void> {
  const ua = await new TestClient(port).start();
  t.teardown(() => ua.socket.close());
  const client = new SipaeClient(login);
  let cseq = 0;
  const register = () => ua.request('REGISTER', `sip:127.0.0.1:${port}`, { user: login.user, callId: `hand-${scheme}`, cseq: ++cseq, fromTag: 'hand', headers: [['Expires', '60']] });
  let req = register();
  for (let round = 0; round < 3; round++) {
    ua.send(req);
    const res = await ua.wait((m) => !m.isRequest && m.cseq().seq === cseq, 10_000);
    if (res.status === 200) {
      t.equal(client.checkResponse(res, res.getAll('Authentication-Info')), undefined, `${scheme}: the server's signed 200 verifies`);
      break;
    }
    t.equal(res.status, 401);
    const next = register();
    next.set('Authorization', await client.answer(res.getAll('WWW-Authenticate')));
    req = next;
  }
  t.ok(client.established, `${scheme}: logged in by hand`);
  const bad = register();
  bad.set('Authorization', client.signRequest(bad)!.replace(/response="(.)/, (_m, c: string) => `response="${c === '0' ? '1' : '0'}`));
  ua.send(bad);
  const refused = await ua.wait((m) => !m.isRequest && m.cseq().seq === cseq, 10_000);
  t.equal(refused.status, 403, `${scheme}: a tampered signature is refused`);
  t.match(refused.reason, new RegExp(`bad ${scheme} signature`));
  const good = register();
  good.set('Authorization', client.signRequest(good)!);
  ua.send(good);
  t.equal((await ua.wait((m) => !m.isRequest && m.cseq().seq === cseq, 10_000)).status, 200, `${scheme}: the next properly signed request is accepted`);
}

t.test('Kerberos: 100 UAs against a real MIT KDC and sipstorm serve --auth kerberos', { skip }, async (t) => {
  const users: Array<[string, string]> = Array.from({ length: USERS }, (_, i) => [`user${i + 1}`, `secret${i + 1}`]);
  const kdc = await startKdc({ users, services: ['sip/127.0.0.1'] });
  t.teardown(() => kdc.stop());
  const port = await serve(t, ['--auth', 'kerberos', '--keytab', kdc.keytab]);
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-krb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = await runCli(['run', scenario(dir, `{ scheme: kerberos, realm: ${kdc.realm} }`), '--target', `sip:127.0.0.1:${port}`, '--kdc', kdc.address, '-q'], { timeoutMs: 120_000 });
  t.equal(run.status, 0, run.out);
  checkRun(t, run.result, USERS);
  await tamperedIsRefused(t, port, {
    scheme: 'kerberos', user: 'user7', password: 'secret7', domain: '', workstation: 'T', now: Date.now,
    kdc: parseKdcAddress(kdc.address), kerberosRealm: kdc.realm,
  }, 'Kerberos');
  t.notMatch(run.out, /secret\d/, 'no password in the output');
});

t.test('NTLM: 100 UAs against sipstorm serve --auth ntlm', async (t) => {
  const port = await serve(t, ['--auth', 'ntlm']);
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-ntlm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = await runCli(['run', scenario(dir, '{ scheme: ntlm, domain: SIPSTORM }'), '--target', `sip:127.0.0.1:${port}`, '-q'], { timeoutMs: 120_000 });
  t.equal(run.status, 0, run.out);
  checkRun(t, run.result, 2 * USERS);
  await tamperedIsRefused(t, port, { scheme: 'ntlm', user: 'user7', password: 'secret7', domain: 'SIPSTORM', workstation: 'T', now: Date.now }, 'NTLM');
});

t.test('wrong passwords fail the login step with the reason, counted, never a crash', { skip }, async (t) => {
  const kdc = await startKdc({ users: [['user1', 'other']], services: ['sip/127.0.0.1'] });
  t.teardown(() => kdc.stop());
  const port = await serve(t, ['--auth', 'kerberos,ntlm', '--keytab', kdc.keytab, '--password', 'other']);
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-krbbad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'one.yaml');
  for (const [auth, reason] of [[`{ scheme: kerberos, realm: ${kdc.realm} }`, /KRB_BAD_PASSWORD/], ['{ scheme: ntlm }', /403/]] as const) {
    writeFileSync(file, `name: bad\nusers: { count: 1, user: 'user{n}', password: 'secret{n}' }\nauth: ${auth}\nsteps:\n  - send: REGISTER\n    expect: 200\n`);
    const run = await runCli(['run', file, '--target', `sip:127.0.0.1:${port}`, '--kdc', kdc.address], { timeoutMs: 60_000 });
    t.equal(run.status, 1, 'the run fails (exit 1)');
    t.equal(run.result.totals.failed, 1, 'one failed instance');
    t.match(JSON.stringify(run.result.scenarios[0].roles[0].failureReasons), reason, 'with the reason');
    t.notMatch(run.out, /secret1|\bother\b/, 'no password printed');
  }
});
