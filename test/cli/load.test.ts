// The load engine end to end, over real sockets against the embedded server:
// distinct registrations on 2 workers, the same counts from 1 and 2 workers,
// and the coordinated-omission correction made visible by a server pause.

import t from 'tap';
import { startServer } from '../../engine/server/index.js';
import { runCli } from '../support/cli.js';
import { onCount } from '../support/on-count.js';
import { decodeHistogram } from '../../engine/metrics/index.js';

async function runJson(_t: unknown, args: string[]) {
  const r = await runCli([...args, '--quiet']);
  return { status: r.status, stdout: r.stdout, result: r.result };
}

t.test('register-auth: 1,000 users at 500/s for 4 s on 2 workers -> 1,000 distinct registrations', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  t.teardown(() => server.close());
  const target = `127.0.0.1:${server.endpoints[0]!.port}`;
  const { status, stdout, result } = await runJson(t, ['run', 'scenarios/register-auth.yaml', '--target', target, '--users', '1000', '--rate', '500', '--duration', '4s', '--workers', '2']);
  t.equal(status, 0, stdout);
  t.equal(result.totals.started, 2000, '4 s at 500/s');
  t.equal(result.totals.passed, 2000);
  t.equal(server.stats().distinctRegistered, 1000, 'the server saw 1,000 distinct AORs');
  const step = result.scenarios[0].roles[0].steps[0];
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) t.ok(step.service[k] > 0, `REGISTER ${k} reported`);
  t.equal(result.settings.workers, 2);
  const workers = result.scenarios[0].health.workers as { worker: number; busy: number }[];
  t.same(workers.map((w) => w.worker), [0, 1], 'each worker reports how busy it was');
  t.ok(workers.every((w) => w.busy > 0 && w.busy < 1), `busy ${workers.map((w) => w.busy).join(', ')}`);
});

t.test('1 worker and 2 workers agree on the counts', async (t) => {
  const args = ['run', 'scenarios/options.yaml', '--rate', '200', '--total', '400'];
  const one = await runJson(t, [...args, '--workers', '1']);
  const two = await runJson(t, [...args, '--workers', '2']);
  for (const r of [one, two]) t.equal(r.status, 0);
  t.equal(one.result.totals.started, 400);
  t.equal(two.result.totals.started, 400);
  t.equal(one.result.totals.passed, two.result.totals.passed);
  const s1 = one.result.scenarios[0].roles[0].steps[0];
  const s2 = two.result.scenarios[0].roles[0].steps[0];
  t.equal(s1.sent, s2.sent);
  t.same(s1.codes, s2.codes);
  t.equal(s1.service.count, s2.service.count, 'as many latency samples');
});

t.test('a 2 s server pause: corrected latency shows it, service time only for the requests caught in it', async (t) => {
  // The pause starts on an event (the server has answered 100 OPTIONS of this run), never at a wall-clock
  // instant that a slow start of the CLI on a busy machine could miss.
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  t.teardown(() => server.close());
  const target = `127.0.0.1:${server.endpoints[0]!.port}`;
  const running = runJson(t, ['run', 'scenarios/options.yaml', '--target', target, '--rate', '500', '--duration', '6s', '--max-concurrent', '10', '--workers', '1']);
  let paused = false;
  const cancel = onCount(() => server.stats().requests.OPTIONS ?? 0, 100, () => {
    server.setFaults({ pauseMs: 2000, pauseAtMs: 0 });
    paused = true;
  });
  const { result } = await running;
  cancel();
  t.ok(paused, 'the pause began during the run');
  const step = result.scenarios[0].roles[0].steps[0];
  t.equal(result.totals.started, 3000, 'every arrival started (late, not dropped)');
  t.equal(result.totals.dropped, 0);
  // About 1,000 arrivals fall due during the pause and wait: far more than 1% of 3,000 wait over 1 s.
  t.ok(step.corrected.p99 >= 1000, `corrected p99 ${step.corrected.p99} ms >= 1 s`);
  t.ok(step.service.max >= 1000, `the requests caught in the pause show it: service max ${step.service.max} ms`);
  // Coordinated omission: service time sees only the (at most --max-concurrent 10) requests in flight when the
  // pause began, the corrected latency every arrival that waited (about 500 of the 1,000 due in the pause wait
  // over 1 s). A busy machine's own stall of over 1 s adds at most 10 requests in flight to the first count,
  // and to the second the arrivals due in it that waited over 1 s: the ratio holds with room to spare.
  const slowService = countAtOrAbove(step.service.histogram, 1000);
  const slowCorrected = countAtOrAbove(step.corrected.histogram, 1000);
  t.ok(slowCorrected >= 5 * slowService, `${slowCorrected} arrivals waited >= 1 s (corrected), ${slowService} requests took >= 1 s of service time`);
});

/** Samples of an encoded histogram at or above a value in ms. */
function countAtOrAbove(encoded: string, ms: number): number {
  const it = (decodeHistogram(encoded) as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } } }).recordedValuesIterator;
  it.reset();
  let n = 0;
  while (it.hasNext()) {
    const v = it.next();
    if (v.valueIteratedTo >= ms * 1000) n += v.countAtValueIteratedTo;
  }
  return n;
}

t.test('IPv6: options.yaml against the server on [::1]', async (t) => {
  const server = await startServer({ host: '::1', port: 0, transports: ['udp'] });
  t.teardown(() => server.close());
  const { status, result } = await runJson(t, ['run', 'scenarios/options.yaml', '--target', `[::1]:${server.endpoints[0]!.port}`, '--workers', '1']);
  t.equal(status, 0);
  t.equal(result.totals.passed, 10);
  t.equal(result.settings.target, `sip:[::1]:${server.endpoints[0]!.port}`);
});

t.test('TCP: register-auth over TCP', async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['tcp'] });
  t.teardown(() => server.close());
  const { status, result } = await runJson(t, ['run', 'scenarios/register-auth.yaml', '--target', `sip:127.0.0.1:${server.endpoints[0]!.port};transport=tcp`, '--workers', '1']);
  t.equal(status, 0);
  t.equal(result.totals.passed, 20);
  t.equal(server.stats().distinctRegistered, 20);
});

t.test('--socket-per-ua: each UA sends from a port of its own, the same one at every call', async (t) => {
  // A bare UDP peer that answers every OPTIONS 200 and notes who sent it from where.
  const { createSocket } = await import('node:dgram');
  const { parseMessage, serializeMessage, createResponse } = await import('../../engine/codec/index.js');
  const peer = createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => peer.close());
  const portsOf = new Map<string, Set<number>>();
  peer.on('message', (data, rinfo) => {
    if (data.toString().trim() === '') return; // sipstorm's liveness probe: a CRLF keep-alive
    const req = parseMessage(data);
    const user = /^<?sip:([^@]+)@/.exec(req.get('From')!)![1]!;
    if (!portsOf.has(user)) portsOf.set(user, new Set());
    portsOf.get(user)!.add(rinfo.port);
    const res = createResponse(req, 200, 'OK', 'peer');
    res.add('Allow', 'INVITE, ACK, BYE, OPTIONS');
    peer.send(serializeMessage(res), rinfo.port, rinfo.address);
  });
  const target = `127.0.0.1:${peer.address().port}`;
  const run = (extra: string[]) => runJson(t, ['run', 'scenarios/options.yaml', '--target', target, '--users', '20', '--rate', '100', '--total', '60', '--workers', '2', ...extra]);

  const own = await run(['--socket-per-ua']);
  t.equal(own.status, 0, own.stdout);
  t.equal(own.result.totals.passed, 60);
  t.equal(portsOf.size, 20, '20 UAs called');
  t.ok([...portsOf.values()].every((p) => p.size === 1), 'each UA kept its port across its 3 calls');
  t.equal(new Set([...portsOf.values()].map((p) => [...p][0])).size, 20, 'and no two UAs shared one');

  portsOf.clear();
  const shared = await run([]);
  t.equal(shared.status, 0);
  t.ok(new Set([...portsOf.values()].flatMap((p) => [...p])).size <= 2, 'without it: one socket per worker');
});
