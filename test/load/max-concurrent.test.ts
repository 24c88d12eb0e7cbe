// --max-concurrent is a cap on the whole run, not on each worker: a UAS that
// counts its open calls (INVITE answered, BYE not yet received) never sees
// more than the cap, whatever the number of workers, and a cap below the
// worker count still runs every call.

import t from 'tap';
import dgram from 'node:dgram';
import { createResponse, parseMessage, serializeMessage } from '../../engine/codec/index.js';
import { runCli } from '../support/cli.js';
import { releaseWorker, RunWideCap, sharedCap } from '../../engine/load/concurrency.js';

/** A real UAS on a UDP socket: answers INVITE 200 (and its retransmissions the same), BYE 200, and counts open calls. */
async function countingUas() {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const open = new Set<string>();
  const seen = new Set<string>();
  let max = 0;
  let calls = 0;
  sock.on('message', (data, rinfo) => {
    let req;
    try {
      req = parseMessage(data);
    } catch {
      return;
    }
    if (!req.isRequest || req.method === 'ACK') return;
    const callId = req.callId();
    if (req.method === 'INVITE' && !seen.has(callId)) {
      seen.add(callId);
      open.add(callId);
      calls++;
      max = Math.max(max, open.size);
    }
    if (req.method === 'BYE') open.delete(callId);
    const res = createResponse(req, 200, undefined, req.to().tag ?? `uas-${callId.length}`);
    if (req.method === 'INVITE') res.add('Contact', `<sip:uas@127.0.0.1:${sock.address().port}>`);
    sock.send(serializeMessage(res), rinfo.port, rinfo.address);
  });
  return {
    port: sock.address().port,
    stats: () => ({ max, calls, open: open.size }),
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}

for (const [cap, workers, total] of [[5, 2, 30], [1, 2, 6], [3, 4, 12]] as const) {
  t.test(`--max-concurrent ${cap} with ${workers} workers: never more than ${cap} calls open at the UAS`, async (t) => {
    const uas = await countingUas();
    t.teardown(() => uas.close());
    const r = await runCli(['run', 'test/fixtures/scenarios/capped-call.yaml', '--target', `127.0.0.1:${uas.port}`, '--workers', String(workers), '--max-concurrent', String(cap), '--total', String(total), '--no-reports'], { outDir: false });
    t.equal(r.status, 0, r.out.slice(-1500));
    t.match(r.out, new RegExp(`PASSED: ${total} started, ${total} passed, 0 failed`));
    const s = uas.stats();
    t.equal(s.calls, total, 'the UAS saw every call');
    t.equal(s.open, 0, 'and every call ended with a BYE');
    t.ok(s.max <= cap, `at most ${cap} open at once (saw ${s.max})`);
    t.ok(s.max >= 1, 'calls were open');
  });
}

t.test('the cap in shared memory: shards take exact shares, a crashed worker gives its slots back', async (t) => {
  for (const [cap, shards] of [[5, 2], [1, 3], [7, 7], [10, 4]] as const) {
    let sum = 0;
    for (let s = 0; s < shards; s++) sum += RunWideCap.shardLimit(cap, s, shards);
    t.equal(sum, cap, `${cap} over ${shards} shards: the shares add up to the cap`);
  }
  const shared = sharedCap(1, 2);
  const w0 = new RunWideCap(shared, 0, 0, 3);
  const w1 = new RunWideCap(shared, 0, 1, 3);
  t.ok(w0.tryAcquire() && w0.tryAcquire() && w1.tryAcquire(), 'three slots taken by two workers');
  t.notOk(w1.tryAcquire(), 'a fourth is refused, whichever worker asks');
  let woke = false;
  const woken = new Promise<void>((r) => w1.whenFree(() => r(void (woke = true))));
  t.notOk(woke, 'no slot free: it waits');
  w0.release();
  await woken;
  t.ok(woke, 'a worker waiting for a slot is woken when another worker frees one');
  t.ok(w1.tryAcquire(), 'and takes it');
  releaseWorker(shared, 1, 1);
  t.ok(w0.tryAcquire() && w0.tryAcquire(), "the slots of worker 1 (crashed) are free again");
  t.notOk(w0.tryAcquire(), 'and the cap still holds');
});
