// The contract between a scenario instance and the worker it runs in: what an
// instance asks of its host (clock, transaction layer, routing, ladders,
// per-UA state) and the records both sides share. WorkerRuntime implements
// UaHost; the instance depends only on this file, so engine/ua has no import
// circle (runtime-instances.ts -> instance.ts -> ua-host.ts, never back).

import type { SipaeClient } from '../auth/sipae/index.js';
import type { SipMessage } from '../codec/index.js';
import type { ConformanceChecker } from '../conformance/index.js';
import type { MediaScheduler } from '../media/index.js';
import type { RoleMetrics } from '../metrics/index.js';
import type { CompiledRole, CompiledScenario, SafeRegex } from '../scenario/index.js';
import type { TimerWheel } from '../timer/index.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, TransactionLayer } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import type { Identity, IdentitySource } from './identity.js';
import type { LadderStore } from './ladder-store.js';

/** How one instance ended. */
export interface InstanceOutcome {
  passed: boolean;
  reason?: string;
  /** Why it did not apply to the peer (a conformance case): neither passed nor failed. */
  notApplicable?: string;
  durationMs: number;
  correctedMs: number;
}

/** Where a UA sends from and to: the worker's socket, or its own. */
export interface UaSocket {
  local: Endpoint;
  /** The target, with the local port to send from when the UA has its own socket. */
  dest: Endpoint;
}

/** One role of the scenario as a worker plays it: its compiled steps, its metrics, its users. */
export interface RoleRuntime {
  role: CompiledRole;
  metrics: RoleMetrics;
  identities: IdentitySource;
  peer?: RoleRuntime;
  /** Another role calls this one (names it as `peer:`) and it waits for requests: its UAs say when they are ready. */
  called?: boolean;
  index: number;
  /**
   * Set by the load runner: each user of the role plays once in the run (an open model whose total is at most its
   * users, the default), so what lasts of a UA across its calls (UaState) goes when its call ends instead of
   * staying for good, one per call of a run of millions.
   */
  usersPlayOnce?: boolean;
}

/** What lasts of a UA across its iterations. */
export interface UaState {
  cseq: number;
  /** The UA's [MS-SIPAE] login (NTLM or Kerberos) and security association, made at its first challenge. */
  sipae?: SipaeClient;
  /** Whether the association answers a proxy (407: Proxy-Authorization) rather than a registrar (401). */
  sipaeProxy?: boolean;
}

/** An instance as its host sees it: what routing, the peer-ready rule and failure ladders need of it. */
export interface HostedInstance {
  readonly callId: string;
  readonly localTag: string;
  /** Call-IDs besides its own that the host routes to it (a callee's calls). */
  otherCallIds: string[] | undefined;
  readonly user: string;
  readonly me: Identity;
  readonly socket: UaSocket;
  /** Its key in the worker's ladder store. */
  readonly serial: number;
  /** Its role's index in the worker's roles. */
  readonly roleIndex: number;
  /** On the worker's wheel clock: its ladder's times count from here. */
  readonly startedAt: number;
  onRequest(req: SipMessage, tx: ServerTransaction | undefined): void;
  onStrayResponse(res: SipMessage): void;
}

/** What an instance asks of the worker it runs in. */
export interface UaHost {
  readonly wheel: TimerWheel;
  /** The worker's media clock (all calls' RTP on the one wheel), made at the first call with media. */
  readonly media: MediaScheduler;
  readonly scenario: CompiledScenario;
  readonly regexCache: Map<string, SafeRegex>;
  /** The transaction layer's timer values and counters (the UAS retransmits its 2xx with them). */
  readonly layer: Pick<TransactionLayer, 'timers' | 'counters'>;
  readonly ladders: LadderStore;
  readonly conformance: ConformanceChecker;
  readonly target: Endpoint;
  /** Host as written in URIs (IPv6 in brackets). */
  readonly targetHostText: string;
  /** --listen: instances serve callers that came to them; their remote is the caller (socket.dest), not the target. */
  readonly onNewDialog?: unknown;
  readonly targetUri: string;
  readonly domain: string;
  readonly local: Endpoint;
  readonly localHostText: string;
  /** The address RTP binds to and SDP names: the run's local address (a WebSocket's Via host is an `.invalid` name). */
  readonly mediaHost: string;
  /** Requests no step waited for (answered automatically or as a UA would). */
  unexpectedRequests: number;
  uaState(user: string): UaState;
  via(local: Endpoint): string;
  contactUri(user: string, local: Endpoint): string;
  send(req: SipMessage, dest: Endpoint, user: ClientTransactionUser): ClientTransaction;
  sendStateless(data: Buffer, dest: Endpoint): void;
  registerCallId(callId: string, inst: HostedInstance): void;
  instanceEnded(inst: HostedInstance): void;
  instanceWaiting(inst: HostedInstance, role: RoleRuntime): void;
  nextSerial(): number;
  sampleFailure(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void;
  answerUnexpected(req: SipMessage, tx: ServerTransaction | undefined): void;
}
