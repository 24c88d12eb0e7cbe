// The UA core's host for conformance cases (UaHost, as WorkerRuntime is for
// a load run): a socket of the target's transport (UDP, TCP, TLS or WS) of
// its own, opened again for each case since several fixtures share a branch
// and one sent-by would make the later ones look like retransmissions of the
// first (RFC 3261 §17.2.3); its transaction layer (requests from the server
// get server transactions; the cases' own sends are stateless, so every
// answer is a stray response routed by Call-ID); the suite run's timer wheel;
// the checker; a ladder store. It plays one program at a time (a case, then
// the liveness OPTIONS), each by one CaseInstance (a ScenarioInstance). Over
// TCP and TLS the top Via names the transport (and over TLS carries RFC
// 5923's alias, so that the server's requests to us reuse our connection).

import { randomBytes } from 'node:crypto';
import { createResponse, hostText, newBranch, parseMessage, type SipMessage } from '../codec/index.js';
import type { ConformanceChecker } from '../conformance/index.js';
import { MediaScheduler } from '../media/index.js';
import { RoleMetrics } from '../metrics/index.js';
import type { CompiledScenario, SafeRegex } from '../scenario/index.js';
import type { TimerWheel } from '../timer/index.js';
import { TransactionLayer, type ClientTransaction, type ClientTransactionUser, type ServerTransaction } from '../transaction/index.js';
import { createTransport, type Endpoint, type TlsOptions, type Transport, type TransportOptions, type WsOptions } from '../transport/index.js';
import { CaseInstance, type CaseVerdict, type CaseWire } from '../ua/case-steps.js';
import { patternIdentities, type Identity } from '../ua/identity.js';
import { LadderStore, type StoredMessage } from '../ua/ladder-store.js';
import type { HostedInstance, InstanceOutcome, RoleRuntime, UaHost, UaState } from '../ua/ua-host.js';
import { rewriteDomain, rewriteTopVia } from './rewrite.js';

export interface CaseHostOptions {
  target: Endpoint;
  targetHostText: string;
  localHost: string;
  /** --domain: torture messages have their Request-URI and To hosts replaced by it. */
  domain?: string;
  tls?: TlsOptions;
  ws?: WsOptions;
  wheel: TimerWheel;
  checker: ConformanceChecker;
  /** A transport other than a socket (tests: test/support/memory-transport.ts). */
  openTransport?: (opts: TransportOptions) => Promise<Transport>;
}

/** How one program ended: the instance's outcome, the case's verdict, its messages. */
export interface CasePlayed {
  outcome: InstanceOutcome;
  verdict: CaseVerdict;
  ladder: StoredMessage[];
}

/** A case's messages are few: a small store per socket. */
const LADDER_BYTES = 1024 * 1024;

export class CaseHost implements UaHost, CaseWire {
  readonly wheel: TimerWheel;
  readonly layer: TransactionLayer;
  readonly ladders = new LadderStore(LADDER_BYTES);
  readonly regexCache = new Map<string, SafeRegex>();
  /** The suite's checker (a new one per suite: SuiteRunner.takeCounts). */
  conformance: ConformanceChecker;
  readonly target: Endpoint;
  readonly targetHostText: string;
  readonly targetUri: string;
  readonly domain: string;
  readonly onNewDialog = undefined;
  scenario!: CompiledScenario;
  local!: Endpoint;
  localHostText = '';
  /** host:port of this socket as a case's ${local} writes it. */
  localText = '';
  /** Requests from the server that no case waited for. */
  unexpectedRequests = 0;
  /** Answers no case was waiting for. */
  unexpectedResponses = 0;
  /** Datagrams from the server that did not parse. */
  unparsable = 0;
  private transport!: Transport;
  private mediaScheduler: MediaScheduler | undefined;
  private readonly routes = new Map<string, HostedInstance>();
  /** Call-IDs of programs that ended: a late answer or a retransmitted request of theirs is not unexpected. */
  private readonly finished = new Set<string>();
  private unrouted: CaseInstance | undefined;
  private serials = 0;
  private readonly state: UaState = { cseq: 0 };
  private readonly stream: boolean;

  private constructor(private readonly opts: CaseHostOptions) {
    this.wheel = opts.wheel;
    this.conformance = opts.checker;
    this.target = opts.target;
    this.targetHostText = opts.targetHostText;
    this.targetUri = `sip:${opts.targetHostText}:${opts.target.port}`;
    this.domain = opts.domain ?? `${opts.targetHostText}:${opts.target.port}`;
    this.stream = opts.target.protocol !== 'udp';
    this.layer = new TransactionLayer({
      wheel: this.wheel,
      send: (data, dest) => this.transport.send(data, dest),
      onRequest: (req, tx) => this.onRequest(req, tx),
      onStray: (res) => this.onStray(res),
    });
  }

  static async open(opts: CaseHostOptions): Promise<CaseHost> {
    const host = new CaseHost(opts);
    host.transport = await (opts.openTransport ?? createTransport)({
      protocol: opts.target.protocol,
      host: opts.localHost,
      port: 0,
      tls: opts.tls,
      ws: opts.ws,
      events: { onMessage: (data, source) => host.onData(data, source), onError: () => undefined },
    });
    const l = host.transport.local;
    host.local = l;
    host.localHostText = hostText(l.host);
    host.localText = `${host.localHostText}:${l.port}`;
    return host;
  }

  get media(): MediaScheduler {
    return (this.mediaScheduler ??= new MediaScheduler(this.wheel));
  }

  get mediaHost(): string {
    return this.opts.localHost;
  }

  /** Plays `program` as user `me` (the case's user and password) on the core; resolves when its instance ends. */
  play(program: CompiledScenario, me: Identity): Promise<CasePlayed> {
    this.scenario = program;
    const compiled = program.roles[0]!;
    const role: RoleRuntime = { role: compiled, metrics: new RoleMetrics(program.name, compiled.name, compiled.metricNames), identities: patternIdentities(me.user, me.password), index: 0 };
    role.metrics.started++;
    role.metrics.running++;
    return new Promise((resolve) => {
      const inst: CaseInstance = new CaseInstance(this, role, me, { local: this.local, dest: this.target }, (outcome) => {
        resolve({ outcome, verdict: inst.verdict, ladder: this.ladders.messagesOf(inst.serial) });
      });
      inst.start();
    });
  }

  close(): Promise<void> {
    this.layer.clear();
    return this.transport.close();
  }

  // ---- CaseWire ----

  /**
   * Torture bytes: the top Via names this socket (and with --domain the Request-URI and To hosts are replaced).
   * Over a stream the top Via names the transport (over TLS with the alias), and a message whose headers end where
   * its datagram does (RFC 4475's baddn.dat) gets the empty line that ends them.
   */
  caseBytes(data: Buffer, torture: boolean): Buffer {
    const bytes = torture && this.opts.domain ? rewriteDomain(data, this.opts.domain) : data;
    if (!this.stream) return torture ? rewriteTopVia(bytes, this.localText) : bytes;
    const p = this.target.protocol;
    const out = rewriteTopVia(bytes, this.localText, p.toUpperCase(), p === 'tls' ? ';alias' : '');
    return out.includes('\r\n\r\n') ? out : Buffer.concat([out, Buffer.from(out.subarray(-2).toString() === '\r\n' ? '\r\n' : '\r\n\r\n')]);
  }

  takeUnrouted(inst: CaseInstance | undefined): void {
    this.unrouted = inst;
  }

  // ---- UaHost ----

  /** The case's own CSeq is ${cseq} (case-steps.ts); a scenario step's count lives here. */
  uaState(): UaState {
    return this.state;
  }

  via(local: Endpoint): string {
    return `SIP/2.0/${local.protocol.toUpperCase()} ${this.localHostText}:${local.port};branch=${newBranch()};rport`;
  }

  contactUri(user: string, local: Endpoint): string {
    return `sip:${user}@${this.localHostText}:${local.port}${local.protocol === 'udp' ? '' : `;transport=${local.protocol}`}`;
  }

  send(req: SipMessage, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    return this.layer.sendRequest(req, dest, user);
  }

  sendStateless(data: Buffer, dest: Endpoint): void {
    this.layer.sendStateless(data, dest);
  }

  registerCallId(callId: string, inst: HostedInstance): void {
    this.routes.set(callId, inst);
  }

  instanceEnded(inst: HostedInstance): void {
    for (const [callId, owner] of this.routes) {
      if (owner !== inst) continue;
      this.routes.delete(callId);
      this.finished.add(callId);
    }
    if (this.unrouted === inst) this.unrouted = undefined;
  }

  instanceWaiting(): void {}

  nextSerial(): number {
    return ++this.serials;
  }

  /** The suite runner reads each case's ladder itself (CasePlayed). */
  sampleFailure(): void {}

  /** A request of an ended case (a retransmission, a NOTIFY ending a subscription): answered 200 and let go. */
  answerUnexpected(req: SipMessage, tx: ServerTransaction | undefined): void {
    if (tx && req.method !== 'ACK') tx.respond(createResponse(req, 200, 'OK', `t${randomBytes(4).toString('hex')}`));
  }

  // ---- incoming ----

  private onData(data: Buffer, source: Endpoint): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(data, { stream: this.stream });
    } catch {
      this.unparsable++;
      this.unrouted?.unparsable(data);
      this.wheel.poll();
      return;
    }
    try {
      this.layer.receive(msg, source);
    } catch {
      // A Via or CSeq a case broke on purpose, echoed in the answer: routed by Call-ID all the same.
      if (msg.isRequest) this.unexpectedRequests++;
      else this.onStray(msg);
    }
    this.wheel.poll();
  }

  private onRequest(req: SipMessage, tx: ServerTransaction | undefined): void {
    const callId = req.get('Call-ID');
    const inst = callId !== undefined ? this.routes.get(callId) : undefined;
    if (inst) return inst.onRequest(req, tx);
    if (callId !== undefined && this.finished.has(callId)) return this.answerUnexpected(req, tx);
    this.unexpectedRequests++;
  }

  private onStray(res: SipMessage): void {
    const callId = res.get('Call-ID');
    const inst = callId !== undefined ? this.routes.get(callId) : undefined;
    if (inst) return inst.onStrayResponse(res);
    if (callId !== undefined && this.finished.has(callId)) return;
    if (this.unrouted) return this.unrouted.onStrayResponse(res);
    this.unexpectedResponses++;
  }
}
