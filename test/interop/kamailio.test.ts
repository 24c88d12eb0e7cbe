// sipstorm's scenarios against a real Kamailio (registrar with digest auth,
// usrloc in memory, presence, record-routing proxy), started by the test with
// the config it ships and stopped by PID.

import t from 'tap';
import { runCli } from '../support/cli.js';
import { kamailioAvailable, kamailioForTest } from '../support/kamailio.js';

const run = (args: string[]) => runCli([...args, '--no-reports'], { outDir: false });

t.test('against Kamailio', { skip: !kamailioAvailable() && 'kamailio (with presence modules) not installed' }, async (t) => {
  const k = await kamailioForTest(t);
  if (!k) return;
  const target = `127.0.0.1:${k.port}`;

  await t.test('register-auth.yaml: register and unregister 1,000 UAs', async (t) => {
    const r = await run(['run', 'scenarios/register-auth.yaml', '--target', target, '--users', '1000', '--total', '1000', '--rate', '500', '--workers', '2']);
    t.equal(r.status, 0, r.out.slice(-1500));
    t.match(r.out, /PASSED: 1000 started, 1000 passed, 0 failed/);
    t.equal(k.registeredUsers(), 0, "Kamailio's usrloc is empty again: every binding was removed");
  });

  await t.test('1,000 distinct UAs register with digest; Kamailio holds 1,000 AORs', async (t) => {
    const r = await run(['run', 'test/fixtures/scenarios/register-keep.yaml', '--target', target, '--workers', '2']);
    t.equal(r.status, 0, r.out.slice(-1500));
    t.match(r.out, /PASSED: 1000 started, 1000 passed, 0 failed/);
    t.equal(k.registeredUsers(), 1000, "Kamailio's usrloc counts 1,000 registered AORs");
    for (const u of ['user1', 'user500', 'user1000']) t.ok(k.isRegistered(u), `kamcmd ul.lookup finds ${u}`);
    t.notOk(k.isRegistered('user1001'), 'and not a user that never registered');
  });

  await t.test('a call between the UAS and UAC roles through Kamailio (record-routed ACK and BYE)', async (t) => {
    const r = await run(['run', 'scenarios/uas-call.yaml', '--target', target, '--workers', '2']);
    t.equal(r.status, 0, r.out.slice(-2500));
    t.match(r.out, /PASSED: 10 started, 10 passed, 0 failed/);
  });

  await t.test('presence: SUBSCRIBE/NOTIFY, PUBLISH changes what the watcher is told', async (t) => {
    const r = await run(['run', 'scenarios/presence.yaml', '--target', target, '--workers', '2']);
    t.equal(r.status, 0, r.out.slice(-2500));
    t.match(r.out, /PASSED: 6 started, 6 passed, 0 failed/);
  });
});
