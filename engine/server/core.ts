// What every handler of the embedded server shares: the transaction layer, the
// accounts and nonces, counters, fault knobs, and helpers to answer and to
// send requests. Handlers are plain functions over this record.

import { createResponse, type SipMessage } from '../codec/index.js';
import type { DigestAlgorithm, NonceStore } from '../auth/index.js';
import type { SecurityAssociation, SipaeServer } from '../auth/sipae/index.js';
import type { TimerWheel } from '../timer/index.js';
import type { ClientTransactionUser, ServerTransaction, TransactionLayer } from '../transaction/index.js';
import type { Endpoint, Protocol } from '../transport/index.js';
import type { ServerFaults } from './faults.js';
import type { RtpEcho } from './rtp-echo.js';
import type { UserDirectory } from './users.js';

export interface ServerStats {
  requests: Record<string, number>;
  responses: Record<string, number>;
  parseErrors: Record<string, number>;
  transportErrors: Record<string, number>;
  droppedByFault: number;
  delayedByFault: number;
  errorsByFault: number;
  unsolicitedResponses: number;
  callsAnswered: number;
  callsProxied: number;
  notifiesSent: number;
  /** New INVITEs refused with 503 because the built-in UAS had maxCalls live calls. */
  callsShed: number;
  /** Built-in calls ended by a limit: rang out (408) or never ACKed. */
  callsTimedOut: number;
}

export function newServerStats(): ServerStats {
  return {
    requests: {}, responses: {}, parseErrors: {}, transportErrors: {}, droppedByFault: 0, delayedByFault: 0,
    errorsByFault: 0, unsolicitedResponses: 0, callsAnswered: 0, callsProxied: 0, notifiesSent: 0,
    callsShed: 0, callsTimedOut: 0,
  };
}

export function bump(map: Record<string, number>, key: string | number): void {
  map[key] = (map[key] ?? 0) + 1;
}

export interface AnswerOptions {
  reason?: string;
  headers?: [string, string][];
  body?: string | Buffer;
  contentType?: string;
  /** A To tag for the response; a new one is made for final responses when the request had none. */
  toTag?: string;
}

export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, MESSAGE, INFO, UPDATE, PRACK, SERVICE';

export interface ServerCore {
  layer: TransactionLayer;
  wheel: TimerWheel;
  realm: string;
  users: UserDirectory;
  nonces: NonceStore;
  stats: ServerStats;
  faults: ServerFaults;
  authInvite: boolean;
  /** Digest algorithms offered, one challenge each, in this order. */
  algorithms: DigestAlgorithm[];
  /** NTLM/Kerberos logins ([MS-SIPAE]) instead of digest, when --auth ntlm|kerberos. */
  sipae?: SipaeServer;
  /** The association a request was authenticated by: its responses are signed with it (auth.ts). */
  signedBy: WeakMap<ServerTransaction, { sa: SecurityAssociation; proxy: boolean }>;
  /** Our listening endpoint for a protocol (first one when absent). */
  local(protocol: Protocol): Endpoint;
  answer(tx: ServerTransaction, status: number, opts?: AnswerOptions): SipMessage;
  sendRequest(req: SipMessage, dest: Endpoint, user: ClientTransactionUser): void;
  /** A Via header value of ours with a new branch, for a request leaving over `protocol`. */
  via(protocol: Protocol, branch?: string): string;
  hostPort(protocol: Protocol): string;
  isLocal(uriHost: string, uriPort: number | undefined): boolean;
  /** The RTP echo that built-in users' SDP answers name (rtp-echo.ts). */
  media?: RtpEcho;
}

export function makeAnswer(core: Pick<ServerCore, 'stats' | 'faults' | 'sipae' | 'signedBy'>, tx: ServerTransaction, status: number, opts: AnswerOptions, defaultTag: () => string): SipMessage {
  const req = tx.request;
  const tag = core.faults.noToTag ? undefined : opts.toTag ?? (status > 100 ? defaultTag() : undefined);
  const res = createResponse(req, status, opts.reason, tag);
  if (core.faults.mangleVia) {
    const via = res.getAll('Via');
    if (via[0]) {
      res.removeFirst('Via');
      res.prepend('Via', via[0].replace(/branch=([^;]+)/i, 'branch=$1x'));
    }
  }
  res.add('Server', 'sipstorm-serve');
  for (const [k, v] of opts.headers ?? []) res.add(k, v);
  if (opts.body !== undefined) {
    res.body = typeof opts.body === 'string' ? Buffer.from(opts.body, 'utf8') : opts.body;
    if (opts.contentType) res.add('Content-Type', opts.contentType);
  }
  // [MS-SIPAE] §3.3.5.2: a response to a request of an association carries the server's signature.
  const signed = core.sipae && core.signedBy.get(tx);
  if (signed) res.add(signed.proxy ? 'Proxy-Authentication-Info' : 'Authentication-Info', core.sipae!.signResponse(signed.sa, res));
  bump(core.stats.responses, status);
  tx.respond(res);
  return res;
}

