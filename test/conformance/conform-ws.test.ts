// `sipstorm conform` over WebSocket (RFC 7118) against the embedded server:
// the suites run unchanged over one WebSocket connection, the server reaches
// the tester over it (its `.invalid` Via host), and the datagram-only cases
// are not applicable, as over TCP.

import t from 'tap';
import { runCli } from '../support/cli.js';

t.test('conform --transport ws against the embedded server', async (t) => {
  const r = await runCli(['conform', '--transport', 'ws', '--no-reports'], { timeoutMs: 120_000 });
  t.equal(r.status, 0, r.out.slice(-3000));
  t.match(r.stdout, /-> embedded server at sip:127\.0\.0\.1:\d+;transport=ws/);
  const na = r.stdout.split('\n').filter((l) => l.startsWith('  n/a ')).map((l) => l.split(' ')[4]).sort();
  t.same(na, ['2xx-retransmitted', 'clerr.dat', 'dblreq.dat', 'inv2543.dat', 'non2xx-retransmitted', 'retransmission-answered'], 'the datagram-only cases');
  t.match(r.stdout, /✓ message relayed-to-binding/, 'the server reaches the tester over its WebSocket');
  t.match(r.stdout, /PASSED: 83 cases: 77 passed, 0 failed, 6 not applicable, 0 not run/);
});
