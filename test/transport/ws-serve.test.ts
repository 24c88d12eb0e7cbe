// SIP over WebSocket (RFC 7118) against `sipstorm serve --transport udp,ws`:
// 1,000 UAs register with digest, each over its own connection (the server's
// registrar counts them all); calls between a caller over WebSocket and a
// callee over UDP, and the other way, complete through the server (it routes
// to a WebSocket UA's `.invalid` contact over the UA's connection and
// record-routes both sides); every bundled scenario passes with a ws:// target.

import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../engine/server/index.js';
import { ROOT, runCli } from '../support/cli.js';
import { crossCalls } from '../support/cross-calls.js';

t.test('sipstorm serve --transport udp,ws', async (t) => {
  // 2,000 connections from one address (the register test's, then the bundled scenarios' own).
  // NTLM beside digest, for the bundled register-ntlm.yaml.
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp', 'ws'], wsPort: 0, limits: { maxConnectionsPerAddress: 5000 }, logins: { ntlm: {} } });
  t.teardown(() => server.close());
  const udp = server.endpoints.find((e) => e.protocol === 'udp')!;
  const ws = server.endpoints.find((e) => e.protocol === 'ws')!;
  t.ok(ws, 'listens on WebSocket');

  await t.test('1,000 UAs register over WebSocket with digest, one connection each', async (t) => {
    const r = await runCli(['run', 'test/fixtures/ws/register-stay.yaml', '--target', `ws://127.0.0.1:${ws.port}/`, '--users', '1000', '--total', '1000', '--rate', '500', '--workers', '2'], { timeoutMs: 120_000 });
    t.equal(r.status, 0, r.out.slice(-2000));
    const role = r.result?.scenarios[0].roles[0];
    t.match(role, { started: 1000, passed: 1000, failed: 0 });
    const reg = role?.steps[0];
    t.match(reg?.codes, { 401: 1000, 200: 1000 }, 'each challenged once, then accepted');
    t.equal(server.stats().registrations, 1000, "the server's registrar holds 1,000 bindings");
    const aors = server.registeredAors();
    t.ok(aors.every((a) => /^user\d+@/.test(a)), 'all of user{n}');
    t.same(r.result.scenarios[0].transport.transportErrors, {}, 'no transport error');
    const connect = r.result.scenarios[0].transport.wsConnect;
    t.equal(connect?.count, 1000, 'one connect time per UA: each opened its own connection');
  });

  await t.test('calls: caller over WebSocket, callee over UDP', async (t) => {
    const c = await crossCalls({
      calleeTarget: ['--target', `127.0.0.1:${udp.port}`],
      callerTarget: ['--target', `ws://127.0.0.1:${ws.port}`],
      registered: () => server.registeredAors().filter((a) => /^user(10[1-9]|11\d|120)@/.test(a)).length,
      users: 20,
    });
    t.ok(c.registered, 'the callees registered');
    t.equal(c.caller.status, 0, c.caller.out.slice(-2000));
    t.equal(c.callee.status, 0, c.callee.out.slice(-2000));
    t.match(c.caller.result?.scenarios[0].roles[0], { started: 20, passed: 20, failed: 0 });
    t.match(c.callee.result?.scenarios[0].roles[0], { started: 20, passed: 20, failed: 0 });
  });

  await t.test('calls: caller over UDP, callee over WebSocket', async (t) => {
    const c = await crossCalls({
      calleeTarget: ['--target', `ws://127.0.0.1:${ws.port}`],
      callerTarget: ['--target', `127.0.0.1:${udp.port}`],
      registered: () => server.registeredAors().filter((a) => /^user(10[1-9]|11\d|120)@/.test(a)).length,
      users: 20,
    });
    t.ok(c.registered, 'the callees registered');
    t.equal(c.caller.status, 0, c.caller.out.slice(-2000));
    t.equal(c.callee.status, 0, c.callee.out.slice(-2000));
    t.match(c.caller.result?.scenarios[0].roles[0], { started: 20, passed: 20, failed: 0 });
    t.match(c.callee.result?.scenarios[0].roles[0], { started: 20, passed: 20, failed: 0 });
    const bye = c.caller.result?.scenarios[0].roles[0].steps.find((s: { name: string }) => s.name === 'BYE');
    t.match(bye?.codes, { 200: 20 }, 'every BYE reached the WebSocket callee over its connection and was answered');
  });

  await t.test('every bundled scenario passes with a ws:// target', async (t) => {
    // All but register-kerberos.yaml, which needs a KDC and the realm of its principals (test/interop/ms-sipae-logins.test.ts).
    const files = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml') && f !== 'register-kerberos.yaml').map((f) => `scenarios/${f}`);
    const r = await runCli(['run', ...files, '--target', `ws://127.0.0.1:${ws.port}/`, '--workers', '2'], { timeoutMs: 120_000 });
    t.equal(r.status, 0, r.out.slice(-3000));
    t.match(r.stdout, /-> sip:127\.0\.0\.1:\d+;transport=ws \(ws\)/);
    t.equal(r.result?.totals.failed, 0);
    t.equal(r.result?.totals.started, r.result?.totals.passed);
    const names = r.result?.scenarios.map((s: { name: string }) => s.name).sort();
    t.same(names, ['cancel', 'message', 'options', 'presence', 'register-auth', 'register-ntlm', 'service', 'uac-call', 'uac-call-media', 'uas-call']);
    for (const s of r.result?.scenarios ?? []) t.same(s.transport.transportErrors, {}, `${s.name}: no transport error`);
  });
});
