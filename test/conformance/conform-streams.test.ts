// `sipstorm conform` over TCP (the embedded server): every case passes, and
// the cases that test what only a datagram has are reported not applicable,
// each saying why (docs/conformance.md). TLS without --target is bad input.

import t from 'tap';
import { runCli } from '../support/cli.js';

t.test('conform --transport tcp against the embedded server', async (t) => {
  const r = await runCli(['conform', '--transport', 'tcp', '--no-reports'], { timeoutMs: 120_000 });
  t.equal(r.status, 0, r.out.slice(-3000));
  t.match(r.stdout, /-> embedded server at sip:127\.0\.0\.1:\d+;transport=tcp/);
  const na = r.stdout.split('\n').filter((l) => l.startsWith('  n/a ')).map((l) => l.split(' ')[4]).sort();
  t.same(na, ['2xx-retransmitted', 'clerr.dat', 'dblreq.dat', 'inv2543.dat', 'non2xx-retransmitted', 'retransmission-answered'], 'the datagram-only cases');
  t.match(r.stdout, /n\/a torture clerr\.dat .*not applicable: over TCP: it tests a Content-Length larger than the datagram/);
  t.match(r.stdout, /✓ torture baddn\.dat/, 'a message whose headers end with its datagram is still played, its empty line added');
  t.match(r.stdout, /✓ message relayed-to-binding/, 'the server reaches the tester over TCP');
  t.match(r.stdout, /PASSED: 83 cases: 77 passed, 0 failed, 6 not applicable, 0 not run/);
});

t.test('conform --transport tls needs --target', async (t) => {
  const r = await runCli(['conform', '--transport', 'tls', '--no-reports']);
  t.equal(r.status, 2);
  t.match(r.stderr, /^sipstorm: --transport tls needs --target: the embedded server has no certificate/);
  const bad = await runCli(['conform', '--transport', 'sctp', '--no-reports']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--transport must be udp, tcp, tls, ws or wss, got 'sctp'/);
});
