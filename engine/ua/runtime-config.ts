// What a worker's UA runtime is made with (WorkerRuntime.create): the compiled
// scenario, target, local host, credentials, timers and the options of its
// sockets. Plain data (engine/load/protocol.ts posts it to each worker) but
// for openTransport, which only a test sets.

import type { CompiledScenario } from '../scenario/index.js';
import type { Endpoint, Transport, TransportOptions, WsOptions } from '../transport/index.js';
import type { WorkerCapture } from '../capture/index.js';

export interface Credentials {
  user?: string;
  password?: string;
  usersCsv?: string;
}

export interface RuntimeConfig {
  scenario: CompiledScenario;
  target: Endpoint;
  /** Host as written in URIs (IPv6 in brackets). */
  targetHostText: string;
  targetUri: string;
  localHost: string;
  credentials?: Credentials;
  timers?: { T1?: number; T2?: number; T4?: number };
  maxFailureSamples?: number;
  /** TLS client settings: certificate checking is on unless insecure is set (--tls-insecure). */
  tls?: { insecure?: boolean; caFile?: string };
  /** Stream buffer limits (defaults: 64 KiB of headers, 1 MiB of body). */
  limits?: { maxHeaderBytes?: number; maxBodyBytes?: number };
  /** Check received messages against the conformance catalog (default true). */
  checks?: boolean;
  /** One socket per simulated UA (SIPp's -t un) instead of one per worker: opened at its first call, kept for the run. */
  socketPerUa?: boolean;
  /** --trace, --trace-failed, --pcap, --tls-keylog: what this worker records (engine/capture). */
  capture?: WorkerCapture;
  /** WebSocket targets: the upgrade's path, Origin and extra headers. Each UA has its own connection (as each browser). */
  ws?: Pick<WsOptions, 'path' | 'origin' | 'headers'>;
  /** --listen: the worker's socket binds this port (on localHost), and callers that are not sipstorm start instances (listen-mode.ts). */
  listenPort?: number;
  /** Opens the sockets (default: createTransport); a test passes an in-memory transport here. */
  openTransport?: (opts: TransportOptions) => Promise<Transport>;
}
