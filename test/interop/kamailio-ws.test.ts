// SIP over WebSocket (RFC 7118) against a real Kamailio with its websocket
// module (xhttp takes the upgrade; test/fixtures/kamailio/kamailio.cfg with
// WITH_WS): 1,000 UAs register with digest, each over its own connection, and
// Kamailio's own registrar counters agree; calls between a caller over
// WebSocket and a callee over UDP, and the other way, complete through
// Kamailio (it reaches a WebSocket UA over the connection the UA opened).

import t from 'tap';
import { runCli } from '../support/cli.js';
import { crossCalls } from '../support/cross-calls.js';
import { kamailioAvailable, kamailioForTest, kamailioWsAvailable } from '../support/kamailio.js';

const missing = !kamailioAvailable() || !kamailioWsAvailable();

t.test('SIP over WebSocket through Kamailio', { skip: missing && process.env.CI !== 'true' && 'kamailio with kamailio-websocket-modules not installed' }, async (t) => {
  if (missing) {
    t.fail('kamailio and kamailio-websocket-modules are needed (CI=true)');
    return;
  }
  const k = await kamailioForTest(t, { ws: true });
  if (!k) return;
  const ws = `ws://127.0.0.1:${k.wsPort}/`;

  await t.test('1,000 UAs register over WebSocket with digest; Kamailio counts 1,000 users', async (t) => {
    const r = await runCli(['run', 'test/fixtures/ws/register-stay.yaml', '--target', ws, '--users', '1000', '--total', '1000', '--rate', '100', '--workers', '2'], { timeoutMs: 150_000 });
    t.equal(r.status, 0, r.out.slice(-2000));
    const role = r.result?.scenarios[0].roles[0];
    t.match(role, { started: 1000, passed: 1000, failed: 0 });
    t.match(role?.steps[0].codes, { 401: 1000, 200: 1000 }, 'each challenged by Kamailio, then accepted');
    t.equal(k.registeredUsers(), 1000, "Kamailio's usrloc:location_users");
    t.ok(k.isRegistered('user1001') && k.isRegistered('user2000'), 'the first and the last are in its location table');
    t.equal(r.result?.scenarios[0].transport.wsConnect?.count, 1000, 'one connection per UA');
    t.same(r.result?.scenarios[0].transport.transportErrors, {}, 'no transport error');
  });

  for (const [name, calleeTarget, callerTarget] of [
    ['caller over WebSocket, callee over UDP', `127.0.0.1:${k.port}`, ws],
    ['caller over UDP, callee over WebSocket', ws, `127.0.0.1:${k.port}`],
  ] as const) {
    await t.test(`calls: ${name}`, async (t) => {
      const c = await crossCalls({
        calleeTarget: ['--target', calleeTarget],
        callerTarget: ['--target', callerTarget],
        registered: () => Number(['user101', 'user120'].every((u) => k.isRegistered(u))) * 20,
        users: 20,
      });
      t.ok(c.registered, 'the callees registered');
      t.equal(c.caller.status, 0, c.caller.out.slice(-2500));
      t.equal(c.callee.status, 0, c.callee.out.slice(-2500));
      t.match(c.caller.result?.scenarios[0].roles[0], { started: 20, passed: 20, failed: 0 });
      t.match(c.callee.result?.scenarios[0].roles[0], { started: 20, passed: 20, failed: 0 });
      const bye = c.caller.result?.scenarios[0].roles[0].steps.find((s: { name: string }) => s.name === 'BYE');
      t.match(bye?.codes, { 200: 20 }, 'every BYE answered 200 by the callee through Kamailio');
    });
  }
});
