// The simulated UAs of one event loop (one worker thread): the socket, the
// transaction layer, the identity pools of each role, per-UA state that lasts
// across iterations, and the routing of incoming requests to the scenario
// instance they belong to (by Call-ID, or by the user part of the
// Request-URI for a new INVITE to a callee). It implements UaHost
// (ua-host.ts), the only thing an instance knows of it.
// Over 400 lines because it holds one worker's whole routing and the peer-ready
// rule, which share the running-instance tables; splitting them would spread one state.

import { isIP } from 'node:net';
import { createResponse, MessageScan, newBranch, parseMessage, SipParseError, type SipMessage } from '../codec/index.js';
import type { CompiledScenario, SafeRegex } from '../scenario/index.js';
import type { TimerWheel } from '../timer/index.js';
import { TransactionLayer, type ClientTransaction, type ClientTransactionUser, type ServerTransaction } from '../transaction/index.js';
import { createTransport, type Endpoint, type Transport, type TransportOptions } from '../transport/index.js';
import { RoleMetrics, type FailureSample, type LadderEntry, type RunSnapshot } from '../metrics/index.js';
import { csvIdentities, patternIdentities, type Identity } from './identity.js';
import { ScenarioInstance } from './instance.js';
import type { HostedInstance, InstanceOutcome, RoleRuntime, UaHost, UaSocket, UaState } from './ua-host.js';
import { redact } from './redact.js';
import { LadderStore } from './ladder-store.js';
import { CallRoutes } from './call-routes.js';
import { ConformanceChecker } from '../conformance/index.js';

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
  /** Opens the sockets (default: createTransport); a test passes an in-memory transport here. */
  openTransport?: (opts: TransportOptions) => Promise<Transport>;
}

export type { RoleRuntime, UaSocket, UaState } from './ua-host.js';

/** A caller held by the peer-ready rule: started when its peer is ready, or ended without a call. */
interface HeldCaller {
  go(): void;
  /** `beforeStart`: the reason is said at the caller's first step. */
  abort(reason: string, beforeStart?: boolean): void;
}

export class WorkerRuntime implements UaHost {
  readonly roles: RoleRuntime[];
  readonly regexCache = new Map<string, SafeRegex>();
  readonly layer: TransactionLayer;
  /** Reused for every datagram received: the index of the last one. */
  private readonly scan = new MessageScan();
  readonly scenario: CompiledScenario;
  readonly target: Endpoint;
  readonly targetHostText: string;
  readonly targetUri: string;
  readonly domain: string;
  local!: Endpoint;
  localHostText = '';
  private transport!: Transport;
  private shared!: UaSocket;
  /** --socket-per-ua: each UA's socket (or its opening), by user; and by local port, what the transaction layer sends from. */
  private readonly uaSockets = new Map<string, UaSocket | Promise<UaSocket>>();
  private readonly socketsByPort = new Map<number, Transport>();
  private readonly calls = new CallRoutes<HostedInstance>();
  private readonly byUser = new Map<string, HostedInstance>();
  private readonly uaStates = new Map<string, UaState>();
  private readonly failures: FailureSample[] = [];
  /** The messages of every instance, for the ladders of the ones that fail (a fixed budget per worker). */
  readonly ladders = new LadderStore();
  private serials = 0;
  private readonly secrets: string[];
  readonly parseErrors: Record<string, number> = {};
  readonly transportErrors: Record<string, number> = {};
  unexpectedRequests = 0;
  private readonly running = new Set<ScenarioInstance>();
  /** Users of called roles whose running instance reached its first wait for a request (the peer-ready rule). */
  private readonly readyUsers = new Set<string>();
  /** Callers held until their peer user is ready, by that user. */
  private readonly peerWaiters = new Map<string, HeldCaller[]>();
  /** Does this worker ever start user `userIndex` of role `roleIndex`? Set by the load runner; a peer elsewhere is not waited for. */
  servesUser: (roleIndex: number, userIndex: number) => boolean = () => true;
  /** How many users each role cycles through (--users included), set by the load runner: a caller's peer is the peer role's user at the same offset. */
  userCounts: (number | undefined)[] = [];
  /** Every message received is checked against the conformance catalog. */
  readonly conformance: ConformanceChecker;

  private constructor(
    private readonly cfg: RuntimeConfig,
    readonly wheel: TimerWheel,
  ) {
    this.scenario = cfg.scenario;
    this.target = cfg.target;
    this.targetHostText = cfg.targetHostText;
    this.targetUri = cfg.targetUri;
    this.domain = cfg.target.port === (cfg.target.protocol === 'tls' ? 5061 : 5060) ? cfg.targetHostText : `${cfg.targetHostText}:${cfg.target.port}`;
    this.layer = new TransactionLayer({
      wheel,
      timers: cfg.timers,
      send: (data, dest) => (dest.localPort === undefined ? this.transport : (this.socketsByPort.get(dest.localPort) ?? this.transport)).send(data, dest),
      onRequest: (req, tx) => this.onRequest(req, tx),
      onStray: (msg) => this.onStray(msg),
    });
    const creds = cfg.credentials ?? {};
    this.roles = cfg.scenario.roles.map((role) => {
      const u = role.users;
      const identities = creds.usersCsv || u.csv
        ? csvIdentities((creds.usersCsv ?? u.csv)!, creds.password)
        : patternIdentities(creds.user ?? u.user, creds.password ?? u.password, u.domain);
      return { role, metrics: new RoleMetrics(cfg.scenario.name, role.name, role.metricNames), identities, index: 0 };
    });
    this.roles.forEach((r, i) => (r.index = i));
    for (const r of this.roles) {
      if (!r.role.peer) continue;
      r.peer = this.roles.find((x) => x.role.name === r.role.peer);
      if (r.peer && r.peer.role.steps.some((s) => s.kind === 'recv')) r.peer.called = true;
    }
    this.conformance = new ConformanceChecker((text) => redact(text, this.secrets), cfg.checks !== false);
    this.secrets = [...new Set([...(creds.password && !creds.password.includes('{n') ? [creds.password] : []), ...this.roles.flatMap((r) => r.identities.secrets())])];
  }

  static async create(cfg: RuntimeConfig, wheel: TimerWheel): Promise<WorkerRuntime> {
    const rt = new WorkerRuntime(cfg, wheel);
    rt.transport = await rt.openTransport(false);
    rt.local = rt.transport.local;
    rt.localHostText = isIP(rt.local.host) === 6 ? `[${rt.local.host}]` : rt.local.host;
    rt.shared = { local: rt.local, dest: rt.target };
    return rt;
  }

  /** A socket bound to the local host; `tagged`: messages that come in on it say so (their source has its localPort). */
  private async openTransport(tagged: boolean): Promise<Transport> {
    const cfg = this.cfg;
    let localPort: number | undefined;
    const t = await (cfg.openTransport ?? createTransport)({
      protocol: cfg.target.protocol,
      host: cfg.localHost,
      port: 0,
      tls: cfg.tls ? { rejectUnauthorized: !cfg.tls.insecure, caFile: cfg.tls.caFile } : undefined,
      limits: cfg.limits,
      events: {
        onMessage: tagged ? (data, source) => this.onData(data, { ...source, localPort }) : (data, source) => this.onData(data, source),
        onError: (code) => {
          this.transportErrors[code] = (this.transportErrors[code] ?? 0) + 1;
        },
        onConnectionLost: (remote, code, detail) => {
          const failed = this.layer.connectionLost(tagged ? { ...remote, localPort } : remote, code, detail);
          // A plain close is an error when requests were waiting on it (the others were counted as they happened).
          if (failed > 0 && code === 'TRANSPORT_CLOSED') this.transportErrors[code] = (this.transportErrors[code] ?? 0) + 1;
          this.wheel.poll();
        },
      },
    });
    localPort = t.local.port;
    return t;
  }

  /** The socket a UA sends from: the worker's, or (--socket-per-ua) its own, opened the first time it is asked for. */
  socketOf(user: string): UaSocket | Promise<UaSocket> {
    if (!this.cfg.socketPerUa) return this.shared;
    let socket = this.uaSockets.get(user);
    if (!socket) {
      const opening = this.openTransport(true).then((t) => {
        const s: UaSocket = { local: t.local, dest: { ...this.target, localPort: t.local.port } };
        this.socketsByPort.set(t.local.port, t);
        this.uaSockets.set(user, s);
        return s;
      });
      opening.catch(() => this.uaSockets.delete(user));
      this.uaSockets.set(user, (socket = opening));
    }
    return socket;
  }

  // ---- what instances use ----

  uaState(user: string): UaState {
    let s = this.uaStates.get(user);
    if (!s) this.uaStates.set(user, (s = { cseq: 0 }));
    return s;
  }

  /**
   * The top Via of a request from `local`: its transport, and over TLS the `alias` of RFC 5923 §5, so that the
   * server sends requests for this UA (whose Contact names its listening port) back over the connection the UA
   * opened rather than opening one to the UA, which has no certificate to offer.
   */
  via(local: Endpoint): string {
    return `SIP/2.0/${local.protocol.toUpperCase()} ${this.localHostText}:${local.port};branch=${newBranch()};rport${local.protocol === 'tls' ? ';alias' : ''}`;
  }

  /** A UA's contact URI: its address and port, and the transport when not UDP (RFC 3261 §19.1.1: no parameter means UDP). */
  contactUri(user: string, local: Endpoint): string {
    return `sip:${user}@${this.localHostText}:${local.port}${local.protocol === 'udp' ? '' : `;transport=${local.protocol}`}`;
  }

  send(req: SipMessage, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    return this.layer.sendRequest(req, dest, user);
  }

  sendStateless(data: Buffer, dest: Endpoint): void {
    this.layer.sendStateless(data, dest);
  }

  /** Requests and stray responses with this Call-ID go to `inst` (CallRoutes tells a caller and callee of one worker apart by tag). */
  registerCallId(callId: string, inst: HostedInstance): void {
    this.calls.add(callId, inst);
    if (callId !== inst.callId && !inst.otherCallIds?.includes(callId)) (inst.otherCallIds ??= []).push(callId);
  }

  instanceEnded(inst: HostedInstance): void {
    this.running.delete(inst as ScenarioInstance);
    this.calls.remove(inst.callId, inst);
    for (const callId of inst.otherCallIds ?? []) this.calls.remove(callId, inst);
    if (this.byUser.get(inst.user) === inst) {
      this.byUser.delete(inst.user);
      this.readyUsers.delete(inst.user);
    }
  }

  /**
   * An instance reached a step that waits for a request: if its role is called by another, its user is ready
   * and the callers held for it start now.
   */
  instanceWaiting(inst: HostedInstance, role: RoleRuntime): void {
    if (!role.called || this.readyUsers.has(inst.user) || this.byUser.get(inst.user) !== inst) return;
    this.readyUsers.add(inst.user);
    const waiters = this.peerWaiters.get(inst.user);
    if (!waiters) return;
    this.peerWaiters.delete(inst.user);
    for (const w of waiters) w.go();
  }

  /** A key per instance for the ladder store. */
  nextSerial(): number {
    return ++this.serials;
  }

  /** `recorded`: how many messages the instance recorded; fewer still in the store means the ladder lost its first ones. */
  sampleFailure(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void {
    if (this.failures.length >= (this.cfg.maxFailureSamples ?? 20)) return;
    const secrets = inst.me.password ? [...this.secrets, inst.me.password] : this.secrets;
    const local = `${this.localHostText}:${inst.socket.local.port}`;
    const kept = this.ladders.messagesOf(inst.serial);
    if (kept.length < recorded) reason += ` (ladder: the first ${recorded - kept.length} of its ${recorded} messages were let go to keep the worker's ladder store within ${Math.round(this.ladders.budgetBytes / 1048576)} MB)`;
    const entries: LadderEntry[] = kept.map((l) => {
      const raw = redact(l.data.toString('utf8'), secrets);
      const remote = `${this.targetHostText}:${this.target.port}`;
      return { t: Math.round(l.t * 1000) / 1000, dir: l.dir, local, remote, firstLine: raw.slice(0, raw.indexOf('\r\n') >>> 0), raw };
    });
    this.failures.push({ scenario: this.scenario.name, role: role.role.name, user: inst.user, reason: redact(reason, secrets), ladder: entries });
  }

  // ---- starting instances ----

  identityOf(role: RoleRuntime, index: number): Identity {
    return role.identities.get(index);
  }

  startInstance(roleIndex: number, userIndex: number, intendedStart: number, done: (o: InstanceOutcome) => void, arrival = 0): void {
    const role = this.roles[roleIndex]!;
    const me = this.identityOf(role, userIndex);
    let peer: Identity | undefined;
    if (role.peer) {
      const offset = userIndex - role.role.users.first;
      const count = this.userCounts[role.peer.index] ?? role.peer.role.users.count ?? role.peer.role.load.total ?? 1;
      peer = this.identityOf(role.peer, role.peer.role.users.first + (((offset % count) + count) % count));
    }
    role.metrics.started++;
    role.metrics.running++;
    const peerRole = role.peer;
    if (peer && peerRole?.called && !this.readyUsers.has(peer.user) && this.servesUser(peerRole.index, peer.index)) {
      // The peer-ready rule: a caller starts once its peer reached its first wait for a request (it registered,
      // say), so that its INVITE never meets a stale contact. The wait counts in the corrected latency (the
      // intended start stays) and is bounded by the scenario timeout.
      const waitMs = this.scenario.timeoutMs;
      const held: HeldCaller = {
        go: () => {
          timer.cancel();
          this.launchInstance(role, me, peer, intendedStart, done, arrival);
        },
        abort: (reason, beforeStart) => {
          timer.cancel();
          // Never started: nothing is routed to it, it only ends failed with the reason.
          const inst = new ScenarioInstance(this, role, me, peer, intendedStart, this.shared, done);
          this.running.add(inst);
          if (beforeStart) inst.abortBeforeStart(reason);
          else inst.abort(reason);
        },
      };
      const timer = this.wheel.schedule(waitMs, () => {
        const list = this.peerWaiters.get(peer.user);
        const i = list?.indexOf(held) ?? -1;
        if (i >= 0) list!.splice(i, 1);
        if (list?.length === 0) this.peerWaiters.delete(peer.user);
        held.abort(`not started: its peer ${peer.user} (role ${peerRole.role.name}) was not ready within ${waitMs / 1000}s (it never reached a step that waits for a request)`, true);
      });
      let list = this.peerWaiters.get(peer.user);
      if (!list) this.peerWaiters.set(peer.user, (list = []));
      list.push(held);
      return;
    }
    this.launchInstance(role, me, peer, intendedStart, done, arrival);
  }

  private launchInstance(role: RoleRuntime, me: Identity, peer: Identity | undefined, intendedStart: number, done: (o: InstanceOutcome) => void, arrival: number): void {
    const socket = this.socketOf(me.user);
    if (!(socket instanceof Promise)) return this.newInstance(role, me, peer, intendedStart, socket, done, arrival).start();
    // A UA's first call waits for its socket to be bound; the wait is part of how late it started (corrected latency).
    socket.then(
      (s) => this.newInstance(role, me, peer, intendedStart, s, done, arrival).start(),
      (err: NodeJS.ErrnoException) => {
        const code = `SOCKET_${err.code ?? 'OPEN'}`;
        this.transportErrors[code] = (this.transportErrors[code] ?? 0) + 1;
        this.newInstance(role, me, peer, intendedStart, this.shared, done).abort(`could not open the UA's own socket: ${code}`);
      },
    );
  }

  /** A method, not a closure in startInstance: an idle instance should keep no context of how it was started alive. */
  private newInstance(role: RoleRuntime, me: Identity, peer: Identity | undefined, intendedStart: number, socket: UaSocket, done: (o: InstanceOutcome) => void, arrival = 0): ScenarioInstance {
    const inst = new ScenarioInstance(this, role, me, peer, intendedStart, socket, done);
    inst.arrival = arrival;
    this.running.add(inst);
    this.byUser.set(me.user, inst);
    return inst;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Ends every running instance now, as failed ("stopped at end of run"), so counts balance. */
  abortAll(reason: string): void {
    // Callers still held for their peer end too, without sending anything.
    const held = [...this.peerWaiters.values()].flat();
    this.peerWaiters.clear();
    for (const h of held) h.abort(reason);
    for (const inst of [...this.running]) inst.abort(reason);
  }

  // ---- incoming ----

  private onData(data: Buffer, source: Endpoint): void {
    let msg: SipMessage;
    try {
      // A datagram is read by one scan of its bytes (codec/scan.ts); what the scan cannot read, the parser does.
      if (source.protocol === 'udp' && this.scan.scan(data) === 'ok') {
        // A retransmitted final response of a finished transaction is counted without making a message.
        if (!this.scan.isRequest && this.layer.absorbRetransmission(this.scan.branch, this.scan.cseqMethod)) {
          this.wheel.poll();
          return;
        }
        msg = this.scan.toMessage();
      } else msg = parseMessage(data, { stream: source.protocol !== 'udp' });
    } catch (err) {
      const code = err instanceof SipParseError ? err.code : 'SIP_PARSE';
      this.parseErrors[code] = (this.parseErrors[code] ?? 0) + 1;
      this.wheel.poll();
      return;
    }
    try {
      this.layer.receive(msg, source);
    } catch (err) {
      const code = err instanceof SipParseError ? err.code : 'UA_INTERNAL';
      this.parseErrors[code] = (this.parseErrors[code] ?? 0) + 1;
      if (!(err instanceof SipParseError)) throw err;
    }
    // Arrivals and retransmissions due by now go out at once rather than at the Node timer's next millisecond.
    this.wheel.poll();
  }

  private onRequest(req: SipMessage, tx: ServerTransaction | undefined): void {
    const callId = req.callId();
    const tag = req.to().tag;
    let inst = tag ? this.calls.findTagged(callId, tag) : undefined;
    if (!inst && !tag && req.method !== 'ACK' && req.method !== 'CANCEL') {
      // A new request to one of our UAs (an INVITE to a callee): the user part of the Request-URI.
      const user = /^sips?:([^@;]+)@/.exec(req.uri)?.[1];
      if (user) inst = this.byUser.get(user);
    }
    inst ??= this.calls.find(callId);
    if (inst) return inst.onRequest(req, tx);
    this.answerUnexpected(req, tx);
  }

  /** A request no instance wants: counted, and answered as a UA would. */
  answerUnexpected(req: SipMessage, tx: ServerTransaction | undefined): void {
    this.unexpectedRequests++;
    this.conformance.request(req);
    if (!tx || req.method === 'ACK') return;
    const status = req.method === 'OPTIONS' ? 200 : req.to().tag ? 481 : req.method === 'INVITE' ? 480 : 481;
    tx.respond(createResponse(req, status, undefined, status > 100 ? 'unexpected' : undefined));
  }

  private onStray(msg: SipMessage): void {
    const inst = this.calls.find(msg.callId());
    if (inst) inst.onStrayResponse(msg);
  }

  snapshot(): RunSnapshot {
    const c = this.layer.counters;
    return {
      roles: this.roles.map((r) => r.metrics.snapshot()),
      transport: {
        retransmissionsSent: c.retransmissionsSent, retransmissionsReceived: c.retransmissionsReceived, timeouts: c.timeouts, stray: c.stray,
        parseErrors: { ...this.parseErrors }, unexpectedRequests: this.unexpectedRequests, transportErrors: { ...this.transportErrors },
      },
      health: { lagP99Ms: 0, lagMaxMs: 0, cpuMs: 0, sendLateP99Ms: 0, sendLateMaxMs: 0, sendsOnTimeShare: 1 },
      failures: [...this.failures],
      conformance: structuredClone(this.conformance.counts),
    };
  }

  async close(): Promise<void> {
    this.layer.clear();
    await Promise.all([this.transport, ...this.socketsByPort.values()].map((t) => t.close()));
  }
}
