// Target faults: down at start (exit 3, nothing sent, unless
// --wait-for-target), down in the middle (timeouts counted, reports written),
// dropping and slow servers (retransmissions and latency counted); in every
// case the counts balance and nothing hangs.

import t, { type Test } from 'tap';
import { startServer } from '../../engine/server/index.js';
import { freePort } from '../support/ports.js';
import { runCli } from '../support/cli.js';
import { onCount } from '../support/on-count.js';

const run = (args: string[]) => runCli([...args, '--workers', '1']);

function balanced(t: Test, result: any): void {
  const tt = result.totals;
  t.equal(tt.started, tt.passed + tt.failed + tt.running, 'started = passed + failed + running');
  for (const s of result.scenarios)
    for (const r of s.roles)
      for (const st of r.steps) if (st.sent) t.equal(st.sent, st.finals + st.timeouts + st.errors, `${st.name}: sent = finals + timeouts + errors`);
}


t.test('target down at start: exit 3 with one clear line, nothing sent', async (t) => {
  const port = await freePort();
  const r = await run(['run', 'scenarios/options.yaml', '--target', `127.0.0.1:${port}`]);
  t.equal(r.status, 3);
  t.equal(r.out.trim(), `sipstorm: target sip:127.0.0.1:${port} is not reachable (port unreachable (nothing listens there)); nothing was sent. Use --wait-for-target TIME to wait for it`);
  t.equal(r.result, undefined, 'no report: nothing ran');
});

t.test('--wait-for-target: a server that comes up late is waited for', async (t) => {
  const port = await freePort();
  const later = setTimeout(async () => {
    const server = await startServer({ host: '127.0.0.1', port, transports: ['udp'] });
    t.teardown(() => server.close());
  }, 1500);
  t.teardown(() => clearTimeout(later));
  const r = await run(['run', 'scenarios/options.yaml', '--target', `127.0.0.1:${port}`, '--wait-for-target', '10s']);
  t.equal(r.status, 0, r.out);
  t.equal(r.result.totals.passed, 10);
});

t.test('target goes down in the middle: timeouts counted, run finishes, reports written', async (t) => {
  // The server goes down on an event (it has answered 40 OPTIONS of the run), not at a wall-clock instant a
  // slow start of the CLI on a busy machine could reach before the run began.
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const port = server.endpoints[0]!.port;
  let closed = false;
  const cancel = onCount(() => server.stats().responses['200'] ?? 0, 40, () => {
    closed = true;
    void server.close();
  });
  t.teardown(() => (cancel(), closed ? undefined : server.close()));
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--target', `127.0.0.1:${port}`]);
  t.ok(closed, 'the server went down during the run');
  t.equal(r.status, 1, 'exit 1: steps failed');
  const step = r.result.scenarios[0].roles[0].steps[0];
  t.ok(step.finals > 0 && step.timeouts > 0, `some answered (${step.finals}), the rest timed out (${step.timeouts})`);
  t.equal(r.result.totals.started, 150);
  balanced(t, r.result);
  t.match(r.out, /✗ \d+ × step 1 'OPTIONS': no final response within 2s/);
});

t.test('a server that drops 30% of requests: retransmissions recover, counts balance', async (t) => {
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--fault-drop', '0.3']);
  const s = r.result.scenarios[0];
  t.ok(s.transport.retransmissionsSent > 10, `retransmissions sent: ${s.transport.retransmissionsSent}`);
  balanced(t, r.result);
  t.equal(r.result.totals.started, 150);
});

t.test('a slow server (100-300 ms): latency shows it, nothing times out', async (t) => {
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--fault-delay', '100-300']);
  t.equal(r.status, 0, r.out);
  const step = r.result.scenarios[0].roles[0].steps[0];
  // The server holds every request at least 100 ms: a floor the latencies must show. No ceiling is judged
  // here (a busy machine adds its own delay); that nothing timed out is the count below.
  t.ok(step.service.p50 >= 100, `p50 ${step.service.p50} ms >= the server's 100 ms (max ${step.service.max} ms)`);
  t.equal(step.timeouts, 0, 'nothing timed out');
  t.equal(step.finals, 150, 'every request answered');
  balanced(t, r.result);
});

t.test('a server answering 5% with 503: the failures are counted by code', async (t) => {
  const r = await run(['run', 'test/fixtures/scenarios/options-short.yaml', '--fault-error', '0.2', '--fault-code', '503']);
  t.equal(r.status, 1);
  const step = r.result.scenarios[0].roles[0].steps[0];
  t.ok(step.codes['503'] > 0, `${step.codes['503']} × 503`);
  t.equal(step.codes['503'] + step.codes['200'], 150);
  t.equal(r.result.totals.failed, step.codes['503']);
  balanced(t, r.result);
});
