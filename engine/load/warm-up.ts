// A busy worker's warm-up: before it says it is ready, it plays its scenario
// for a moment against an answerer of its own on loopback, so that V8 has
// compiled the hot path (Node's socket code, the codec, the transaction layer,
// the interpreter, the metrics) before the first measured arrival. Cold, the
// first second of a run at 10,000 requests/s ran interpreted code and fell
// behind: its p99 latency was 80-170 ms against a server answering in under
// 2 ms, and so was the whole 10 s run's (README "Warm-up").
// Nothing of it reaches the target or the results: the warm-up has its own
// runtime (metrics, ladders, conformance counts), sockets and timer wheel, all
// dropped before the run's start instant. Scenarios whose calls need more than
// a plain answer (media, Kerberos/NTLM logins), WebSocket targets and --listen
// are not warmed up.

import { performance } from 'node:perf_hooks';
import { createResponse, hostText, parseMessage, serializeMessage } from '../codec/index.js';
import { TimerWheel } from '../timer/index.js';
import { createTransport, type Transport } from '../transport/index.js';
import { WorkerRuntime } from '../ua/index.js';
import type { WorkerConfig } from './protocol.js';
import { LoadRunner } from './runner.js';
import { peakRate, transactionsPerSecond } from './worker-count.js';

/** A worker that carries at least this many transactions a second warms up (below it, cold code keeps up). */
export const WARM_UP_FROM = 500;
/**
 * How long the warm-up plays its arrivals. Its CPU grows with it, about one CPU-second a second (V8 compiles what it
 * plays, the answerer's code too, and some of it again once the target's traffic arrives), while the first measured
 * second gains nothing measurable past about 250 ms (README Figures, "A shorter warm-up").
 */
export const WARM_UP_MS = 250;

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, MESSAGE, INFO, UPDATE, PRACK, REFER';

export interface WarmUp {
  /** Instances started against the answerer, and how many passed. */
  instances: number;
  passed: number;
  ms: number;
}

/** Why a worker does not warm up, or undefined when it does. */
export function noWarmUpReason(cfg: WorkerConfig): string | undefined {
  if (cfg.warmUp === false) return '--no-warm-up';
  if (cfg.listenPort !== undefined) return '--listen';
  const sc = cfg.scenario;
  if (cfg.target.protocol === 'ws' || cfg.target.protocol === 'wss') return 'a WebSocket target';
  if (sc.roles.some((r) => r.media !== undefined)) return 'a scenario with media';
  if (sc.roles.some((r) => r.auth !== undefined && r.auth.scheme !== 'digest')) return 'Kerberos/NTLM logins';
  const perSecond = transactionsPerSecond(sc, cfg.overrides);
  if (perSecond === undefined) return 'a closed-model load';
  if (perSecond / cfg.part.count < WARM_UP_FROM) return `under ${WARM_UP_FROM} transactions/s per worker`;
  return undefined;
}

/**
 * Plays the scenario for WARM_UP_MS at the worker's own rate against a loopback answerer; undefined when
 * noWarmUpReason says so, or when the warm-up could not be set up (then the run starts cold, as with --no-warm-up:
 * the warm-up is no part of what a run measures, so it never fails one).
 */
export async function warmUp(cfg: WorkerConfig): Promise<WarmUp | undefined> {
  if (noWarmUpReason(cfg) !== undefined) return undefined;
  return play(cfg).catch(() => undefined);
}

async function play(cfg: WorkerConfig): Promise<WarmUp> {
  const began = performance.now();
  // TLS goes over TCP here: the same framing and connection pool, without a certificate to trust.
  const { answerer, localText } = await openAnswerer(cfg.target.protocol === 'udp' ? 'udp' : 'tcp', cfg.localHost);
  const { port, protocol } = answerer.local;
  const wheel = new TimerWheel({ tickMs: 0.25 });
  const rt = await WorkerRuntime.create(
    {
      ...cfg, target: answerer.local, targetHostText: localText, targetUri: `sip:${localText}:${port}${protocol === 'udp' ? '' : ';transport=tcp'}`,
      capture: undefined, socketPerUa: false,
    },
    wheel,
  );
  const rate = Math.max(...cfg.scenario.roles.map((r) => peakRate(r, cfg.overrides) ?? 0));
  const runner = new LoadRunner(
    rt,
    wheel,
    // No run-wide cap: the real run's counters are shared with the other workers.
    { part: cfg.part, overrides: { ...cfg.overrides, rate, total: undefined, durationMs: WARM_UP_MS, gracefulStopMs: 0 } },
    performance.now(),
  );
  runner.start();
  await runner.done;
  const instances = rt.roles.reduce((a, r) => a + r.metrics.started, 0);
  const passed = rt.roles.reduce((a, r) => a + r.metrics.passed, 0);
  await rt.close();
  wheel.stop();
  await answerer.close();
  return { instances, passed, ms: Math.round(performance.now() - began) };
}

/**
 * A server on loopback that answers every request but ACK with a 200 (an INVITE first with a 180, the 200 with a
 * Contact; a REGISTER's 200 lists its binding, RFC 3261 §10.3 step 8). What it cannot parse it drops: it is
 * there to be cheap, not to judge.
 */
async function openAnswerer(protocol: 'udp' | 'tcp', host: string): Promise<{ answerer: Transport; localText: string }> {
  let contact = '';
  const answerer: Transport = await createTransport({
    protocol, host, port: 0, listen: true,
    events: {
      onMessage: (data, source) => {
        for (const reply of answer(data, contact)) answerer.send(reply, source);
      },
      onError: () => {},
    },
  });
  const localText = hostText(answerer.local.host);
  contact = `<sip:warm-up@${localText}:${answerer.local.port}>`;
  return { answerer, localText };
}

/** `contact`: the answerer's own, for the 200 of an INVITE or SUBSCRIBE. */
function answer(data: Buffer, contact: string): Buffer[] {
  let req;
  try {
    req = parseMessage(data);
  } catch {
    return [];
  }
  if (!req.isRequest || req.method === 'ACK') return [];
  const ok = createResponse(req, 200, undefined, 'warm-up');
  ok.add('Allow', ALLOW);
  const expires = req.get('Expires') ?? '3600';
  const binding = req.get('Contact');
  if (req.method === 'REGISTER' && binding) ok.add('Contact', `${binding};expires=${expires}`);
  if (req.method === 'SUBSCRIBE') ok.add('Expires', expires);
  if (req.method === 'INVITE' || req.method === 'SUBSCRIBE') ok.add('Contact', contact);
  if (req.method !== 'INVITE') return [serializeMessage(ok)];
  return [serializeMessage(createResponse(req, 180, undefined, 'warm-up')), serializeMessage(ok)];
}
