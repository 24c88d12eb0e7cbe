// The simulated UAs of one event loop (one worker thread): the socket, the
// transaction layer, the identity pools of each role, per-UA state that lasts
// across iterations, and the routing of incoming requests to the scenario
// instance they belong to (by Call-ID, or by the user part of the
// Request-URI for a new INVITE to a callee). It implements UaHost
// (ua-host.ts), the only thing an instance knows of it.
// The peer-ready rule's tables are peer-ready.ts.
// Over 400 lines because it is the one place each worker's socket, transaction
// layer and instances meet, and every way of reaching a peer plugs in here:
// a socket per UA or a WebSocket per UA, --listen, --trace/--pcap taps, the
// media scheduler. What stands on its own has left (runtime-config.ts,
// peer-ready.ts, failure-ladder.ts, call-routes.ts, ladder-store.ts).

import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createResponse, MessageScan, newBranch, parseMessage, SipParseError, type SipMessage } from '../codec/index.js';
import type { CompiledScenario, SafeRegex } from '../scenario/index.js';
import type { TimerWheel } from '../timer/index.js';
import { TransactionLayer, type ClientTransaction, type ClientTransactionUser, type ServerTransaction } from '../transaction/index.js';
import { createTransport, defaultPort, isStreamProtocol, type Endpoint, type Transport } from '../transport/index.js';
import { newHistogram, rawOf, recordMs, RoleMetrics, type FailureSample, type RunSnapshot } from '../metrics/index.js';
import { csvIdentities, patternIdentities, type Identity } from './identity.js';
import { ScenarioInstance } from './instance.js';
import { MediaScheduler } from '../media/media-scheduler.js';
import type { HostedInstance, InstanceOutcome, RoleRuntime, UaHost, UaSocket, UaState } from './ua-host.js';
import { redact } from './redact.js';
import { LadderStore } from './ladder-store.js';
import { CallRoutes } from './call-routes.js';
import type { RuntimeConfig } from './runtime-config.js';
import { PeerReadiness, type HeldCaller } from './peer-ready.js';
import { ladderEntries } from './failure-ladder.js';
import { ConformanceChecker } from '../conformance/index.js';
import { CaptureRecorder } from '../capture/recorder.js';
import { passwordPatternMask, secretsMask } from '../capture/mask.js';
import { loadMsLogin } from './ms-login.js';
import { loadCallMedia } from './call-media.js';

export type { Credentials, RuntimeConfig } from './runtime-config.js';
export type { RoleRuntime, UaSocket, UaState } from './ua-host.js';

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

  get mediaHost(): string {
    return this.cfg.localHost;
  }
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
  /** The peer-ready rule: users ready, callers held for them. */
  private readonly peers = new PeerReadiness();
  /** Does this worker ever start user `userIndex` of role `roleIndex`? Set by the load runner; a peer elsewhere is not waited for. */
  servesUser: (roleIndex: number, userIndex: number) => boolean = () => true;
  /** How many users each role cycles through (--users included), set by the load runner: a caller's peer is the peer role's user at the same offset. */
  userCounts: (number | undefined)[] = [];
  /** Every message received is checked against the conformance catalog. */
  readonly conformance: ConformanceChecker;
  /** WebSocket target: one connection per UA, Via and Contact with an `.invalid` host (RFC 7118 §5.2). */
  private readonly isWs: boolean;
  /** Connect and handshake times of the WebSocket connections (one per UA). */
  private readonly wsConnect = newHistogram();

  private mediaScheduler: MediaScheduler | undefined;

  get media(): MediaScheduler {
    return (this.mediaScheduler ??= new MediaScheduler(this.wheel));
  }
  /** Absent without a capture flag: then the transports get no tap at all. */
  private capture: CaptureRecorder | undefined;

  private constructor(
    private readonly cfg: RuntimeConfig,
    readonly wheel: TimerWheel,
  ) {
    this.scenario = cfg.scenario;
    this.isWs = cfg.target.protocol === 'ws' || cfg.target.protocol === 'wss';
    this.target = cfg.target;
    this.targetHostText = cfg.targetHostText;
    this.targetUri = cfg.targetUri;
    this.domain = cfg.target.port === defaultPort(cfg.target.protocol) ? cfg.targetHostText : `${cfg.targetHostText}:${cfg.target.port}`;
    this.layer = new TransactionLayer({
      wheel,
      timers: cfg.timers,
      send: (data, dest) => (dest.localPort === undefined ? this.transport : (this.socketsByPort.get(dest.localPort) ?? this.transport)).send(data, dest),
      onRequest: (req, tx, source) => this.onRequest(req, tx, source),
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
    await Promise.all([loadMsLogin(cfg.scenario), loadCallMedia(cfg.scenario)]);
    const rt = new WorkerRuntime(cfg, wheel);
    if (cfg.listenPort !== undefined) rt.early = [];
    if (cfg.capture) rt.capture = new CaptureRecorder(cfg.capture, rt.captureMask());
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
      port: tagged ? 0 : (cfg.listenPort ?? 0),
      tls: cfg.tls ? { rejectUnauthorized: !cfg.tls.insecure, caFile: cfg.tls.caFile } : undefined,
      limits: cfg.limits,
      ws: cfg.ws,
      tap: this.capture?.tap,
      keylog: this.capture?.keylog,
      events: {
        onMessage: tagged ? (data, source) => this.onData(data, { ...source, localPort }) : (data, source) => this.onData(data, source),
        onError: (code) => {
          this.transportErrors[code] = (this.transportErrors[code] ?? 0) + 1;
        },
        onConnected: (_remote, ms) => recordMs(this.wsConnect, ms),
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

  /**
   * A capture's masking: the reports' redaction of digest values, every known password (in one pass, as bytes:
   * captures are latin1 text) and any password a pattern can make, since a message on the wire is not tied to its UA.
   */
  private captureMask(): (text: string) => string {
    const passwords = secretsMask(this.secrets.map((s) => Buffer.from(s, 'utf8').toString('latin1')));
    const patterns = [this.cfg.credentials?.password, ...this.roles.map((r) => r.role.users.password)]
      .map((p) => (p === undefined ? undefined : passwordPatternMask(p)))
      .filter((r): r is RegExp => r !== undefined);
    return (text) => {
      let out = passwords(redact(text, []));
      for (const re of patterns) out = out.replace(re, '***');
      return out;
    };
  }

  /** The socket a UA sends from: the worker's, or (--socket-per-ua) its own, opened the first time it is asked for. */
  socketOf(user: string): UaSocket | Promise<UaSocket> {
    if (!this.cfg.socketPerUa && !this.isWs) return this.shared;
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
    // RFC 7118 §5.2: over WebSocket the sent-by is the transport's random `.invalid` host (the UA has no address).
    if (this.isWs) return `SIP/2.0/${local.protocol.toUpperCase()} ${local.host};branch=${newBranch()};rport`;
    return `SIP/2.0/${local.protocol.toUpperCase()} ${this.localHostText}:${local.port};branch=${newBranch()};rport${local.protocol === 'tls' ? ';alias' : ''}`;
  }

  /** A UA's contact URI: its address and port, and the transport when not UDP (RFC 3261 §19.1.1: no parameter means UDP). */
  contactUri(user: string, local: Endpoint): string {
    if (this.isWs) return `sip:${user}@${local.host};transport=ws`;
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
      this.peers.forget(inst.user);
    }
  }

  /**
   * An instance reached a step that waits for a request: if its role is called by another, its user is ready
   * and the callers held for it start now.
   */
  instanceWaiting(inst: HostedInstance, role: RoleRuntime): void {
    if (!role.called || this.peers.isReady(inst.user) || this.byUser.get(inst.user) !== inst) return;
    this.peers.markReady(inst.user);
  }

  /** A key per instance for the ladder store. */
  nextSerial(): number {
    return ++this.serials;
  }

  /** `recorded`: how many messages the instance recorded; fewer still in the store means the ladder lost its first ones. */
  sampleFailure(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void {
    const secrets = inst.me.password ? [...this.secrets, inst.me.password] : this.secrets;
    if (this.capture) this.traceFailed(role, inst, redact(reason, secrets), recorded);
    if (this.failures.length >= (this.cfg.maxFailureSamples ?? 20)) return;
    const local = `${this.localHostText}:${inst.socket.local.port}`;
    const kept = this.ladders.messagesOf(inst.serial);
    if (kept.length < recorded) reason += ` (ladder: the first ${recorded - kept.length} of its ${recorded} messages were let go to keep the worker's ladder store within ${Math.round(this.ladders.budgetBytes / 1048576)} MB)`;
    const ladder = ladderEntries(kept, local, `${this.targetHostText}:${this.target.port}`, secrets);
    this.failures.push({ scenario: this.scenario.name, role: role.role.name, user: inst.user, reason: redact(reason, secrets), ladder });
  }

  /** --trace-failed: every failed instance's messages, not only the sample the reports keep. */
  private traceFailed(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void {
    const kept = this.ladders.messagesOf(inst.serial);
    const origin = performance.timeOrigin + inst.startedAt;
    const lost = kept.length < recorded ? ` (its first ${recorded - kept.length} of ${recorded} messages were let go by the worker's ${Math.round(this.ladders.budgetBytes / 1048576)} MB ladder store)` : '';
    const header = `failed instance: scenario ${this.scenario.name}, role ${role.role.name}, user ${inst.user}: ${reason}${lost}`;
    const messages = kept.map((m) => ({ t: origin + m.t, received: m.dir === 'received', data: m.data }));
    this.capture!.failedInstance(header, this.target.protocol, inst.socket.local.host, inst.socket.local.port, this.target.host, this.target.port, messages);
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
    if (peer && peerRole?.called && !this.peers.isReady(peer.user) && this.servesUser(peerRole.index, peer.index)) {
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
        this.peers.release(peer.user, held);
        held.abort(`not started: its peer ${peer.user} (role ${peerRole.role.name}) was not ready within ${waitMs / 1000}s (it never reached a step that waits for a request)`, true);
      });
      this.peers.hold(peer.user, held);
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
    for (const h of this.peers.takeAll()) h.abort(reason);
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
      } else msg = parseMessage(data, { stream: isStreamProtocol(source.protocol) });
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

  private onRequest(req: SipMessage, tx: ServerTransaction | undefined, source: Endpoint): void {
    const callId = req.callId();
    const tag = req.to().tag;
    let inst = tag ? this.calls.findTagged(callId, tag) : undefined;
    if (!inst && !tag && req.method !== 'ACK' && req.method !== 'CANCEL' && !this.onNewDialog) {
      // A new request to one of our UAs (an INVITE to a callee): the user part of the Request-URI.
      const user = /^sips?:([^@;]+)@/.exec(req.uri)?.[1];
      if (user) inst = this.byUser.get(user);
    }
    inst ??= this.calls.find(callId);
    if (inst) return inst.onRequest(req, tx);
    // --listen: a new dialog from a caller starts an instance of its own; one that comes between the bind and the
    // start of the run waits for the start (a few, bounded: the rest are answered as unexpected). An OPTIONS is answered at once (a caller may ping the address to know it is bound).
    if (!tag && this.onNewDialog?.(req, source)) return this.calls.find(callId)!.onRequest(req, tx);
    if (!tag && this.early && this.early.length < 1000 && req.method !== 'OPTIONS') {
      this.early.push({ req, tx, source });
      return;
    }
    this.answerUnexpected(req, tx);
  }

  /** --listen (engine/load/runner.ts): whether a new request from `source` started an instance (routed to by its Call-ID). */
  onNewDialog: ((req: SipMessage, source: Endpoint) => boolean) | undefined;
  /** --listen: new requests that came before the run started. */
  private early: { req: SipMessage; tx: ServerTransaction | undefined; source: Endpoint }[] | undefined;

  /** --listen: from now on new requests start instances through `accept`; those that came early go first. */
  listenFor(accept: ((req: SipMessage, source: Endpoint) => boolean) | undefined): void {
    this.onNewDialog = accept;
    const early = this.early ?? [];
    this.early = undefined;
    for (const e of early) this.onRequest(e.req, e.tx, e.source);
  }

  /** --listen: an instance for a caller at `source`, its Call-ID routed to it; it starts at once and waits for the request. */
  startListening(roleIndex: number, userIndex: number, callId: string, source: Endpoint, done: (o: InstanceOutcome) => void): void {
    const role = this.roles[roleIndex]!;
    role.metrics.started++;
    role.metrics.running++;
    const inst = new ScenarioInstance(this, role, this.identityOf(role, userIndex), undefined, this.wheel.now(), { local: this.local, dest: source }, done);
    this.running.add(inst);
    this.registerCallId(callId, inst);
    inst.start();
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
        retransmissionsSent: c.retransmissionsSent, requestRetransmissions: { ...c.requestRetransmissions }, retransmissionsReceived: c.retransmissionsReceived, timeouts: c.timeouts, stray: c.stray,
        parseErrors: { ...this.parseErrors }, unexpectedRequests: this.unexpectedRequests, transportErrors: { ...this.transportErrors },
        ...(this.isWs ? { wsConnect: rawOf(this.wsConnect) } : {}),
      },
      health: { lagP99Ms: 0, lagMaxMs: 0, cpuMs: 0, sendLateP99Ms: 0, sendLateMaxMs: 0, sendsOnTimeShare: 1 },
      failures: [...this.failures],
      conformance: structuredClone(this.conformance.counts),
    };
  }

  async close(): Promise<void> {
    this.layer.clear();
    await Promise.all([this.transport, ...this.socketsByPort.values()].map((t) => t.close()));
    this.capture?.close();
  }
}
