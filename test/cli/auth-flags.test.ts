// Bad authentication flags and files are one line and exit 2, before any traffic.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

t.test('serve: --auth, --keytab, --auth-target mistakes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-authflags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const notKeytab = join(dir, 'not.keytab');
  writeFileSync(notKeytab, 'hello');
  const cases: Array<[string[], RegExp]> = [
    [['--auth', 'basic'], /--auth 'basic': expected a list of digest, ntlm, kerberos/],
    [['--auth', 'kerberos'], /--auth kerberos needs --keytab FILE/],
    [['--keytab', notKeytab], /--keytab goes with --auth kerberos/],
    [['--auth-target', 'x'], /--auth-target goes with --auth ntlm or kerberos/],
    [['--auth', 'kerberos', '--keytab', notKeytab], /not\.keytab: not an MIT keytab/],
    [['--auth', 'kerberos', '--keytab', join(dir, 'missing.keytab')], /missing\.keytab/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['serve', '--port', '0', ...args], { outDir: false, timeoutMs: 20_000 });
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('run: --kdc and Kerberos settings are checked before any traffic', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-authflags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'k.yaml');
  writeFileSync(file, 'name: k\nauth: { scheme: kerberos }\nsteps:\n  - send: REGISTER\n    expect: 200\n');
  const bad = await runCli(['run', file, '--kdc', 'no-port'], { timeoutMs: 20_000 });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--kdc "no-port": expected HOST:PORT/);
  const noKdc = await runCli(['run', file, '--target', 'sip:127.0.0.1:9'], { timeoutMs: 20_000 });
  t.equal(noKdc.status, 2);
  t.match(noKdc.stderr, /logs in with Kerberos: give --kdc HOST:PORT/);
  const noRealm = await runCli(['run', file, '--target', 'sip:127.0.0.1:9', '--kdc', '127.0.0.1:88'], { timeoutMs: 20_000 });
  t.equal(noRealm.status, 2);
  t.match(noRealm.stderr, /give auth\.realm/);
  writeFileSync(file, 'name: k\nauth: { scheme: radius }\nsteps:\n  - send: REGISTER\n');
  const v = await runCli(['validate', file], { outDir: false, timeoutMs: 20_000 });
  t.equal(v.status, 2);
  t.match(v.stderr, /k\.yaml:2:\d+/, 'validate points at the auth scheme');
});
