// The UA's own cost per call, without sockets, SIPp or the machine's other
// load in the way (npm run bench:ua-path): one worker's runtime plays
// scenarios/uac-call.yaml (INVITE, 100/180/200, ACK, BYE, 200) against a
// scripted peer in memory, on a manual clock, conformance checks on; the
// process's CPU time (user + system, so time the machine gave to others does
// not count) over the calls, the peer's share included (the same code in both
// builds: parse, createResponse, serialize), divided by the calls. BENCH_UA_BASELINE=/path/to/another/checkout
// (built) runs that build's runtime too, alternately, BENCH_UA_REPEAT times
// each, and prints the medians and their ratio: a before/after of the hot
// path that a shared machine disturbs far less than a run over sockets.
// Not a test.

import { execFileSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;
const CALLS = Number(process.env.BENCH_UA_CALLS ?? 20000);
const BATCH = 200;

interface Codec {
  parseMessage(b: Buffer): Msg;
  serializeMessage(m: Msg): Buffer;
  createResponse(req: Msg, status: number, reason?: string, toTag?: string): Msg;
}
interface Msg {
  method: string;
  isRequest: boolean;
  add(n: string, v: string): void;
}

/** One measurement in this process, of the build at `build`: microseconds of runtime per call. */
async function measure(build: string): Promise<number> {
  const codec = (await import(`${build}dist/engine/codec/index.js`)) as Codec;
  const { WorkerRuntime } = await import(`${build}dist/engine/ua/index.js`);
  const { loadScenarioFile } = await import(`${build}dist/engine/scenario/index.js`);
  const { TimerWheel, ManualClock } = await import(`${build}dist/engine/timer/index.js`);
  const peer = { protocol: 'udp', host: '127.0.0.1', port: 5060 };
  const wheel = new TimerWheel({ clock: new ManualClock(1000) });
  const outbox: Buffer[] = [];
  let events: { onMessage(data: Buffer, source: unknown): void } | undefined;
  const rt = await WorkerRuntime.create(
    {
      scenario: loadScenarioFile(`${root}scenarios/uac-call.yaml`),
      target: peer, targetHostText: '127.0.0.1', targetUri: 'sip:127.0.0.1', localHost: '127.0.0.1',
      openTransport: async (opts: { protocol: string; host: string; events: typeof events }) => {
        events = opts.events;
        return {
          protocol: opts.protocol, reliable: false, local: { protocol: opts.protocol, host: opts.host, port: 5099 },
          counters: { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, errors: {} },
          send: (data: Buffer) => void outbox.push(data),
          close: async () => undefined,
        };
      },
    },
    wheel,
  );
  const timed = (fn: () => void) => fn();
  let tag = 0;
  /** The peer (untimed): SIPp's uas, answering INVITE with 100, 180, 200 and BYE with 200. */
  const pump = () => {
    while (outbox.length > 0) {
      const req = codec.parseMessage(outbox.shift()!);
      const replies: Msg[] = [];
      if (req.method === 'INVITE') {
        const to = `uas${++tag}`;
        replies.push(codec.createResponse(req, 100), codec.createResponse(req, 180, undefined, to));
        const ok = codec.createResponse(req, 200, undefined, to);
        ok.add('Contact', '<sip:service@127.0.0.1:5060>');
        replies.push(ok);
      } else if (req.method === 'BYE') replies.push(codec.createResponse(req, 200));
      for (const r of replies) {
        const data = codec.serializeMessage(r);
        timed(() => events!.onMessage(data, peer));
      }
    }
  };
  let done = 0;
  let passed = 0;
  const run = (calls: number) => {
    for (let i = 0; i < calls; i += BATCH) {
      timed(() => {
        for (let j = 0; j < BATCH; j++) rt.startInstance(0, 1 + ((i + j) % 1000), wheel.now(), (o: { passed: boolean }) => (done++, o.passed && passed++));
      });
      pump();
      timed(() => wheel.advance(100)); // the pause before the BYE
      pump();
      timed(() => wheel.advance(1));
    }
  };
  run(Math.min(4000, CALLS)); // warm-up: the JIT compiles
  done = passed = 0;
  const cpu = process.cpuUsage();
  run(CALLS);
  const used = process.cpuUsage(cpu);
  await rt.close();
  if (passed !== CALLS) throw new Error(`${build}: ${passed} of ${CALLS} calls passed (${done} ended)`);
  return (used.user + used.system) / CALLS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const one = process.env.BENCH_UA_ONE;
  if (one) {
    // A child: one measurement, one line.
    console.log(String(await measure(one)));
    return;
  }
  const baseline = process.env.BENCH_UA_BASELINE;
  const repeat = Number(process.env.BENCH_UA_REPEAT ?? 5);
  const builds: [string, string][] = [['this build', root]];
  if (baseline) builds.push(['baseline', baseline.endsWith('/') ? baseline : `${baseline}/`]);
  const results = new Map<string, number[]>(builds.map(([l]) => [l, []]));
  for (let i = 0; i < repeat; i++) {
    for (const [label, build] of builds) {
      // Each measurement in a fresh process: no JIT or heap state carried from the other build.
      const out = execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname], { env: { ...process.env, BENCH_UA_ONE: build }, encoding: 'utf8' });
      const us = Number(out.trim());
      results.get(label)!.push(us);
      console.log(`round ${i + 1} ${label.padEnd(10)} ${us.toFixed(1)} µs of CPU per call (${CALLS} calls)`);
    }
  }
  const after = median(results.get('this build')!);
  console.log(`\nmedian of ${repeat}: this build ${after.toFixed(1)} µs per call`);
  if (baseline) {
    const before = median(results.get('baseline')!);
    console.log(`median of ${repeat}: baseline ${before.toFixed(1)} µs per call; this build / baseline = ${(after / before).toFixed(2)}`);
  }
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(3);
});
