// A worker's runtime, its first layer: what the worker is made of (the roles
// with their metrics and identity pools, the transaction layer, the
// conformance checker) and the sockets it sends from: the worker's one socket,
// or one per UA (--socket-per-ua, and always over WebSocket: one connection
// per UA), with the --trace/--pcap tap and its masking. The Via and Contact a
// UA writes name these sockets. The layers above: runtime-instances.ts,
// runtime-incoming.ts, runtime.ts (WorkerRuntime, the one object).

import { newBranch, type SipMessage } from '../codec/index.js';
import type { CompiledScenario, SafeRegex } from '../scenario/index.js';
import type { TimerWheel } from '../timer/index.js';
import { TransactionLayer, type ClientTransaction, type ClientTransactionUser, type ServerTransaction } from '../transaction/index.js';
import { createTransport, defaultPort, type Endpoint, type Transport } from '../transport/index.js';
import { newHistogram, recordMs, RoleMetrics } from '../metrics/index.js';
import { csvIdentities, patternIdentities } from './identity.js';
import { MediaScheduler } from '../media/media-scheduler.js';
import type { RoleRuntime, UaSocket } from './ua-host.js';
import { redact } from './redact.js';
import type { RuntimeConfig } from './runtime-config.js';
import { ConformanceChecker } from '../conformance/index.js';
import type { CaptureRecorder } from '../capture/recorder.js';
import { passwordPatternMask, secretsMask } from '../capture/mask.js';

export abstract class RuntimeSockets {
  readonly roles: RoleRuntime[];
  readonly regexCache = new Map<string, SafeRegex>();
  readonly layer: TransactionLayer;
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
  protected transport!: Transport;
  protected shared!: UaSocket;
  /** --socket-per-ua: each UA's socket (or its opening), by user; and by local port, what the transaction layer sends from. */
  private readonly uaSockets = new Map<string, UaSocket | Promise<UaSocket>>();
  private readonly socketsByPort = new Map<number, Transport>();
  protected readonly secrets: string[];
  readonly transportErrors: Record<string, number> = {};
  /** Every message received is checked against the conformance catalog. */
  readonly conformance: ConformanceChecker;
  /** WebSocket target: one connection per UA, Via and Contact with an `.invalid` host (RFC 7118 §5.2). */
  protected readonly isWs: boolean;
  /** Connect and handshake times of the WebSocket connections (one per UA). */
  protected readonly wsConnect = newHistogram();

  private mediaScheduler: MediaScheduler | undefined;

  get media(): MediaScheduler {
    return (this.mediaScheduler ??= new MediaScheduler(this.wheel));
  }
  /** Absent without a capture flag: then the transports get no tap at all. */
  protected capture: CaptureRecorder | undefined;

  protected constructor(
    protected readonly cfg: RuntimeConfig,
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

  /** What the layers above do with what comes in (runtime-incoming.ts). */
  protected abstract onData(data: Buffer, source: Endpoint): void;
  protected abstract onRequest(req: SipMessage, tx: ServerTransaction | undefined, source: Endpoint): void;
  protected abstract onStray(msg: SipMessage): void;

  /** A socket bound to the local host; `tagged`: messages that come in on it say so (their source has its localPort). */
  protected async openTransport(tagged: boolean): Promise<Transport> {
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
  protected captureMask(): (text: string) => string {
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

  async close(): Promise<void> {
    this.layer.clear();
    await Promise.all([this.transport, ...this.socketsByPort.values()].map((t) => t.close()));
    this.capture?.close();
  }
}
