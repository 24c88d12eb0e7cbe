// Calls between two roles of one run through a real Kamailio over UDP, TCP
// and TLS (its own self-signed certificate, made by openssl): the callee's
// Contact names its transport, ACK and BYE follow the record-routed route set,
// and no caller starts before its callee is ready (uas-call.yaml has no pause).
// The conformance suites that need the server to reach the tester pass over
// TLS. A TLS target whose certificate the run does not trust is refused at
// start.

import t from 'tap';
import { runCli } from '../support/cli.js';
import { kamailioAvailable, kamailioForTest, kamailioTlsAvailable } from '../support/kamailio.js';

const run = (args: string[]) => runCli([...args, '--no-reports', '--workers', '2']);
const missing = !kamailioAvailable() || !kamailioTlsAvailable();

t.test('calls through Kamailio over UDP, TCP and TLS', { skip: missing && process.env.CI !== 'true' && 'kamailio with its tls module, or openssl, not installed' }, async (t) => {
  if (missing) {
    t.fail('kamailio, kamailio-tls-modules and openssl are needed (CI=true)');
    return;
  }
  const k = await kamailioForTest(t, { tls: true });
  if (!k) return;

  const targets: [string, string[]][] = [
    ['UDP', ['--target', `127.0.0.1:${k.port}`]],
    ['TCP', ['--target', `sip:127.0.0.1:${k.port};transport=tcp`]],
    ['TLS', ['--target', `sips:127.0.0.1:${k.tlsPort}`, '--tls-ca', k.tlsCert!]],
  ];
  for (const [name, target] of targets) {
    await t.test(`40 calls over ${name}, callers started with no pause`, async (t) => {
      const r = await runCli(['run', 'scenarios/uas-call.yaml', ...target, '--users', '40', '--total', '40', '--rate', '40', '--workers', '2']);
      t.equal(r.status, 0, r.out.slice(-2500));
      const roles = r.result?.scenarios[0].roles ?? [];
      const caller = roles.find((x: { role: string }) => x.role === 'caller');
      const callee = roles.find((x: { role: string }) => x.role === 'callee');
      t.match(caller, { started: 40, passed: 40, failed: 0 }, 'every call passed');
      t.match(callee, { started: 40, passed: 40, failed: 0 }, 'every callee got its INVITE, ACK and BYE');
      const bye = caller?.steps.find((s: { name: string }) => s.name === 'BYE');
      t.match(bye?.codes, { 200: 40 }, 'every BYE answered 200 by the callee through Kamailio');
      t.same(r.result.scenarios[0].transport.transportErrors, {}, 'no transport error');
    });
  }

  await t.test('conform over TLS: registrar, presence and MESSAGE relaying to the tester, failures only the known deviations', async (t) => {
    const r = await runCli(['conform', '--target', `sips:127.0.0.1:${k.tlsPort}`, '--tls-ca', k.tlsCert!, '--suite', 'register,message,presence,auth']);
    t.equal(r.status, 1, 'Kamailio (with the test config) does not pass every case');
    const failed = r.result.scenarios.flatMap((s: { name: string; roles: { steps: { name: string; failed: number }[] }[] }) =>
      s.roles[0]!.steps.filter((st) => st.failed > 0).map((st) => `${s.name}/${st.name.replace(/ \(.*$/, '')}`)).sort();
    // Both in test/fixtures/kamailio/known-deviations.tsv, with the RFC text.
    t.same(failed, ['auth/nonce-count-replay', 'presence/publish-refresh-remove']);
    t.match(r.stdout, /✓ message relayed-to-binding/, 'Kamailio relays a MESSAGE to the tester over the TLS connection it opened');
    t.match(r.stdout, /✓ presence subscribe-notify-unsubscribe/, 'and its NOTIFYs');
    t.match(r.stdout, /✓ register /);
  });

  await t.test('a TLS target whose certificate is not trusted: exit 3 at start, the reason on one line', async (t) => {
    const r = await run(['run', 'scenarios/uas-call.yaml', '--target', `sips:127.0.0.1:${k.tlsPort}`]);
    t.equal(r.status, 3, r.out);
    const lines = r.stderr.trim().split('\n');
    t.equal(lines.length, 1, 'one line');
    t.match(lines[0], /^sipstorm: target sips:127\.0\.0\.1:\d+: TLS handshake failed: self-signed certificate \(TLS_DEPTH_ZERO_SELF_SIGNED_CERT\); nothing was sent\. Give --tls-ca FILE/);
    t.notMatch(r.out, /started|PASSED|FAILED/, 'no run started');
  });
});
