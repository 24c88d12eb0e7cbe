// A busy worker's warm-up (engine/load/warm-up.ts): which workers warm up (1,000
// transactions a second or more, open model, no media, no Kerberos/NTLM, no
// WebSocket, not --listen, not --no-warm-up); the warm-up plays the scenario
// against its own answerer on loopback over UDP and over TCP (a TLS target
// warms up over TCP); and a run that warmed up sent the target exactly its
// own requests and counted exactly its own instances, and says it warmed up.

import t from 'tap';
import { loadScenarioFile } from '../../engine/scenario/index.js';
import { noWarmUpReason, warmUp, WARM_UP_FROM, WARM_UP_MS } from '../../engine/load/warm-up.js';
import type { WorkerConfig } from '../../engine/load/protocol.js';
import type { Protocol } from '../../engine/transport/index.js';
import { runCli } from '../support/cli.js';
import { answer, ScriptedServer } from '../support/scripted-server.js';

const root = new URL('../../../', import.meta.url).pathname;
const options = loadScenarioFile(`${root}scenarios/options.yaml`); // one transaction an instance
const call = loadScenarioFile(`${root}scenarios/uac-call.yaml`);

function config(over: Partial<WorkerConfig> = {}, protocol: Protocol = 'udp'): WorkerConfig {
  return {
    scenario: options,
    // No datagram or connection goes here: the warm-up has its own target.
    target: { protocol, host: '127.0.0.1', port: 9 },
    targetHostText: '127.0.0.1',
    targetUri: 'sip:127.0.0.1:9',
    localHost: '127.0.0.1',
    part: { index: 0, count: 1 },
    overrides: { rate: WARM_UP_FROM },
    stopOnFirstFailure: false,
    drainMs: 1000,
    ...over,
  };
}

t.test('which workers warm up', async (t) => {
  t.equal(noWarmUpReason(config()), undefined, `${WARM_UP_FROM} transactions/s on one worker: warms up`);
  t.match(noWarmUpReason(config({ overrides: { rate: WARM_UP_FROM - 1 } })), /^under 500 transactions\/s per worker$/);
  t.match(noWarmUpReason(config({ part: { index: 1, count: 2 }, overrides: { rate: WARM_UP_FROM * 1.5 } })), /per worker/, 'the rate is the worker\'s share');
  t.equal(noWarmUpReason(config({ scenario: call, overrides: { rate: Math.ceil(WARM_UP_FROM / 3) } })), undefined, 'a call counts its INVITE, ACK and BYE');
  t.equal(noWarmUpReason(config({ warmUp: false })), '--no-warm-up');
  t.equal(noWarmUpReason(config({ listenPort: 0 })), '--listen');
  t.equal(noWarmUpReason(config({}, 'ws')), 'a WebSocket target');
  t.equal(noWarmUpReason(config({ scenario: loadScenarioFile(`${root}scenarios/uac-call-media.yaml`) })), 'a scenario with media');
  t.equal(noWarmUpReason(config({ scenario: loadScenarioFile(`${root}scenarios/register-kerberos.yaml`) })), 'Kerberos/NTLM logins');
  t.equal(noWarmUpReason(config({ overrides: {}, scenario: loadScenarioFile(`${root}test/fixtures/scenarios/closed-think.yaml`) })), 'a closed-model load');
});

for (const protocol of ['udp', 'tcp', 'tls'] as const) {
  t.test(`${protocol}: the warm-up plays the scenario against its own answerer`, async (t) => {
    const w = await warmUp(config({ overrides: { rate: 2000 } }, protocol));
    t.ok(w, 'it warmed up');
    t.ok(w!.instances > 0 && w!.instances <= 2000 * WARM_UP_MS / 1000, `instances started at the rate for the warm-up time (${w!.instances})`);
    t.ok(w!.passed > 0 && w!.passed <= w!.instances, `and answered: the OPTIONS got their 200 with Allow (${w!.passed} passed)`);
    t.ok(w!.ms >= WARM_UP_MS, 'it took the warm-up time');
  });
}

t.test('a run that warmed up sent the target only its own requests and counted only its own instances', async (t) => {
  const server = await ScriptedServer.start({
    onRequest: ({ msg, reply }) => reply(answer(msg, 200, 'OK', { toTag: 'w', headers: ['Allow: INVITE, ACK, BYE, OPTIONS'] })),
  });
  t.teardown(() => server.close());
  const r = await runCli(['run', 'scenarios/options.yaml', '--target', server.target('udp'), '--rate', '2000', '--total', '300', '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-400));
  t.equal(server.requests.length, 300, 'the target got 300 OPTIONS, the run\'s own');
  t.match(r.result.totals, { started: 300, passed: 300, failed: 0 });
  const [worker] = r.result.scenarios[0].health.workers;
  t.ok(worker.warmUp.instances > 0, `the result says the worker warmed up (${worker.warmUp.instances} instances, ${worker.warmUp.ms} ms)`);
  t.match(r.out, /warm-up on loopback before the start #0 [\d,]+ instances in \d+ ms/, 'and so does the console');

  const cold = await runCli(['run', 'scenarios/options.yaml', '--target', server.target('udp'), '--rate', '2000', '--total', '300', '--workers', '1', '--no-warm-up']);
  t.equal(cold.status, 0);
  t.equal(server.requests.length, 600, 'and 300 more with --no-warm-up');
  t.notOk(cold.result.scenarios[0].health.workers[0].warmUp, 'which says nothing of a warm-up');
});
