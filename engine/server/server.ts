// The embedded reference server (`sipstorm serve`, and the default target of
// `sipstorm run`): transports, the transaction layer, and the dispatch of each
// request to the registrar, presence server, built-in UAS or proxy-lite, with
// RFC 3261 §8.2 request checks and the fault knobs. Every malformed input is
// counted and answered 400 when it can be, dropped otherwise; never a crash.

import { isIP } from 'node:net';
import {
  bareHost, createResponse, hostText, newBranch, newTag, parseMessage, parseUri, serializeMessage, SipParseError, validateMessage,
  type SipMessage,
} from '../codec/index.js';
import { NonceStore, type DigestAlgorithm } from '../auth/index.js';
import { KerberosAcceptor, keysFor, KeytabError, SipaeServer, type KeytabEntry } from '../auth/sipae/index.js';
import { TimerWheel } from '../timer/index.js';
import { TransactionLayer, type ServerTransaction } from '../transaction/index.js';
import {
  createTransport, isStreamProtocol, responseDestination, stampReceived, type Endpoint, type Protocol, type Transport, type TransportLimits,
} from '../transport/index.js';
import { isInvalidHost, WsHosts } from './ws-hosts.js';
import { authenticate } from './auth.js';
import { DEFAULT_CALL_LIMITS, type CallLimits } from './call-limits.js';
import { ALLOW, bump, makeAnswer, newServerStats, type ServerCore, type ServerStats } from './core.js';
import { faultDelay, type ServerFaults } from './faults.js';
import { LocationService } from './location.js';
import { PresenceServer } from './presence.js';
import { Proxy, uriDestination } from './proxy.js';
import { handleRegister, type RegistrarOptions } from './registrar.js';
import { BUILTIN_USERS, BuiltinUas } from './uas.js';
import { RtpEcho, type RtpEchoStats } from './rtp-echo.js';
import { createUserDirectory, type UserDirectory, type UserSource } from './users.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  transports?: Protocol[];
  /**
   * TLS listens on its own port (TCP and TLS cannot share one): this one, or by default the port after `port`
   * (5060/5061) when other transports are served, `port` itself when TLS is the only one, any free port with port 0.
   */
  tlsPort?: number;
  tls?: { certFile: string; keyFile: string };
  /** WebSocket (RFC 7118) ports: default 8080 and 8443 (WSS, with `tls`), any free port with port 0. */
  wsPort?: number;
  wssPort?: number;
  users?: UserSource;
  realm?: string;
  authInvite?: boolean;
  /** Challenges offered, most preferred first (RFC 8760 §2.4); default MD5 alone, which every UA answers. */
  algorithms?: DigestAlgorithm[];
  /**
   * [MS-SIPAE] logins offered beside (or instead of) digest: NTLM checks the accounts' passwords; Kerberos
   * accepts tickets for its targetname (default sip/HOST) with the keys of a keytab.
   */
  logins?: LoginOptions;
  faults?: ServerFaults;
  registrar?: Partial<RegistrarOptions>;
  /** Stream buffer limits (defaults: 64 KiB of headers, 1 MiB of body). */
  limits?: TransportLimits;
  /** Limits on the built-in UAS's calls (defaults in call-limits.ts: 10,000 live calls, 180 s of ringing). */
  calls?: Partial<CallLimits>;
  /** Called for every counted fault (parse errors, transport errors), e.g. for logging. */
  onError?(code: string, detail: string): void;
}

export interface LoginOptions {
  /** Offer digest too (default true): a UA answers the scheme it speaks. */
  digest?: boolean;
  ntlm?: { targetname?: string };
  kerberos?: { keys: KeytabEntry[]; targetname?: string };
}

export interface ServerSnapshot extends ServerStats {
  registrations: number;
  /** Distinct AORs registered at any time since start. */
  distinctRegistered: number;
  subscriptions: number;
  activeCalls: number;
  /** The RTP echo: datagrams received, echoed, and dropped (by the fault knobs). */
  media: RtpEchoStats;
  transactions: { retransmissionsSent: number; retransmissionsReceived: number; timeouts: number; stray: number };
}

export interface SipServer {
  readonly endpoints: Endpoint[];
  stats(): ServerSnapshot;
  /** Addresses of record with a live binding. */
  registeredAors(): string[];
  setFaults(faults: ServerFaults): void;
  close(): Promise<void>;
}

const SUPPORTED_EXTENSIONS = new Set<string>([]);
const INVITE_TYPES = /^(application\/sdp|multipart\/(mixed|alternative))\b/i;
const ACCEPT = 'application/sdp, application/pidf+xml, text/plain';
const ACCEPTED_TYPES = /^\s*(application\/sdp|application\/pidf\+xml|text\/plain)\b/i;

export async function startServer(opts: ServerOptions = {}): Promise<SipServer> {
  const host = opts.host ?? '127.0.0.1';
  const protocols = opts.transports ?? ['udp', 'tcp'];
  const wheel = new TimerWheel();
  const stats = newServerStats();
  let faults: ServerFaults = { ...opts.faults };
  let pauseStart = wheel.now() + (faults.pauseAtMs ?? 0);
  const transports = new Map<Protocol, Transport>();
  const users = createUserDirectory(opts.users ?? { user: 'user{n}', password: 'secret{n}' });
  const registrarOpts: RegistrarOptions = { defaultExpires: 3600, minExpires: 1, maxExpires: 86400, ...opts.registrar };

  /**
   * RFC 5923 connection reuse: a request over TLS (or TCP) whose top Via carries `alias` makes its connection the
   * way to its sent-by address, so that requests to a UA's Contact go back over the connection the UA opened.
   */
  const aliases = new Map<string, Endpoint>();
  /** The aliases of each connection, to forget them when it closes. */
  const aliasesOf = new Map<string, Set<string>>();
  const aliasKey = (e: { protocol: string; host: string; port: number }) => `${e.protocol}|${e.host}|${e.port}`;
  const send = (data: Buffer, dest: Endpoint) => {
    const t = transports.get(dest.protocol) ?? transports.values().next().value!;
    t.send(data, (dest.protocol !== 'udp' && aliases.get(aliasKey(dest))) || dest);
  };
  const noteAlias = (req: SipMessage, source: Endpoint) => {
    const via = req.topVia();
    if (!via.params.has('alias') || via.transport.toLowerCase() !== source.protocol) return;
    const host = bareHost(via.host);
    if (host !== source.host) return; // only for the address the connection comes from
    const k = aliasKey({ protocol: source.protocol, host, port: via.port ?? (source.protocol === 'tls' ? 5061 : 5060) });
    if (aliases.get(k) === source) return;
    aliases.set(k, source);
    const conn = aliasKey(source);
    let set = aliasesOf.get(conn);
    if (!set) aliasesOf.set(conn, (set = new Set()));
    set.add(k);
  };
  /** The `.invalid` hosts of WebSocket UAs and the connections they are reached over (ws-hosts.ts). */
  const wsHosts = new WsHosts();
  /** Where a URI points: a WebSocket UA's connection, or the address and transport it names. */
  const destinationOf = (uri: string) => wsHosts.resolve(uri) ?? uriDestination(uri);
  const layer = new TransactionLayer({
    wheel,
    send,
    onRequest: (req, tx, source) => onRequest(req, tx, source),
    onStray: () => stats.unsolicitedResponses++,
    responseDestination,
  });
  const localEndpoints = () => [...transports.values()].map((t) => t.local);
  const core: ServerCore = {
    layer,
    wheel,
    realm: opts.realm ?? 'sipstorm',
    users,
    nonces: new NonceStore(),
    stats,
    get faults() {
      return faults;
    },
    authInvite: opts.authInvite ?? false,
    algorithms: opts.algorithms?.length ? opts.algorithms : ['MD5'],
    // Kerberos times are wall-clock times (the wheel's clock is monotonic).
    sipae: opts.logins && sipaeServer(opts.logins, opts.realm ?? 'sipstorm', opts.host ?? '127.0.0.1', users, Date.now),
    signedBy: new WeakMap(),
    local: (p) => (transports.get(p) ?? transports.values().next().value!).local,
    answer: (tx, status, o = {}) => makeAnswer(core, tx, status, o, newTag),
    sendRequest: (req, dest, user) => {
      layer.sendRequest(req, dest, user);
    },
    via: (p, branch) => `SIP/2.0/${p.toUpperCase()} ${core.hostPort(p)};branch=${branch ?? newBranch()};rport`,
    hostPort: (p) => {
      const l = core.local(p);
      return `${hostText(l.host)}:${l.port}`;
    },
    isLocal: (uriHost, uriPort) => {
      const h = bareHost(uriHost);
      if (!isIP(h)) return !isInvalidHost(h); // a domain name: we are the registrar for every domain but a WebSocket UA's
      return localEndpoints().some((l) => (l.host === h || (l.host === '0.0.0.0' && isIP(h) === 4)) && l.port === (uriPort ?? 5060));
    },
  };
  core.media = await RtpEcho.start(host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host, () => faults);
  const location = new LocationService(() => wheel.now());
  const presence = new PresenceServer(core);
  const callLimits: CallLimits = { ...DEFAULT_CALL_LIMITS, ...opts.calls };
  const uas = new BuiltinUas(core, callLimits);
  const proxy = new Proxy(core);

  const countParseError = (code: string, detail: string) => {
    bump(stats.parseErrors, code);
    opts.onError?.(code, detail);
  };

  function receive(data: Buffer, source: Endpoint): void {
    const isResponse = data.length >= 4 && data.toString('latin1', 0, 4) === 'SIP/';
    if (!isResponse && faults.dropRate && Math.random() < faults.dropRate) {
      stats.droppedByFault++;
      return;
    }
    const delay = faultDelay(faults, wheel.now(), pauseStart);
    if (delay > 0) {
      stats.delayedByFault++;
      wheel.schedule(delay, () => process(data, source));
      return;
    }
    process(data, source);
  }

  function process(data: Buffer, source: Endpoint): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(data, { stream: isStreamProtocol(source.protocol) });
    } catch (err) {
      const e = err as SipParseError;
      countParseError(e.code ?? 'SIP_PARSE', e.message);
      // A request whose headers parse, but whose body is framed wrong (RFC 4475 §3.1.2.2) or whose
      // request line is broken (§3.1.2.8, whitespace in the Request-URI), is answered 400.
      const head = requestHeaders(data);
      if (head) answerStateless(head, source, 400, `Bad Request (${e.message})`);
      return;
    }
    try {
      if (msg.isRequest) {
        try {
          validateMessage(msg);
        } catch (err) {
          const e = err as SipParseError;
          countParseError(e.code, e.message);
          answerStateless(msg, source, e.code === 'SIP_PARSE_VERSION' ? 505 : 400, e.code === 'SIP_PARSE_VERSION' ? undefined : `Bad Request (${e.message})`);
          return;
        }
        stampReceived(msg, source);
        if (source.protocol !== 'udp') noteAlias(msg, source);
        wsHosts.note(msg, source);
        if (shedByCallLimit(msg, source)) return;
      }
      layer.receive(msg, source);
    } catch (err) {
      if (err instanceof SipParseError) countParseError(err.code, err.message);
      else {
        // A bug of ours must not take the server down: count it and go on serving.
        countParseError('SERVER_INTERNAL', (err as Error).stack ?? String(err));
      }
    }
  }

  /**
   * Answers outside any transaction (malformed requests, INVITEs shed by the call cap); drops what cannot be
   * answered. RFC 3581 §4: the top Via is stamped with received and rport first, so the answer goes to the source
   * port when the request asked for rport, and the response's Via says where it came from.
   */
  function answerStateless(req: SipMessage, source: Endpoint, status: number, reason?: string, headers: [string, string][] = []): void {
    if (req.method === 'ACK') return;
    try {
      if (!req.has('Via') || !req.has('CSeq') || !req.has('Call-ID')) return;
      const dest = (() => {
        try {
          stampReceived(req, source);
          return responseDestination(req, source);
        } catch {
          return source; // a top Via we cannot read: the source is the best guess
        }
      })();
      const res = createResponse(req, status, reason?.replace(/[\r\n]/g, ' ').slice(0, 120), newTag());
      for (const [k, v] of headers) res.add(k, v);
      bump(stats.responses, status);
      send(serializeMessage(res), dest);
    } catch {
      /* unanswerable: counted already */
    }
  }

  /**
   * A new INVITE to a built-in user while the UAS holds maxCalls calls: 503 with Retry-After (RFC 3261 §21.5.4),
   * sent statelessly (§8.2.7) so that a flood of them creates no transaction. A retransmission of an INVITE we took
   * (its Call-ID is a live call) goes on to its transaction.
   */
  function shedByCallLimit(req: SipMessage, source: Endpoint): boolean {
    if (req.method !== 'INVITE' || !uas.full || req.to().tag || uas.hasCall(req.callId()) || req.has('Route')) return false;
    let uri;
    try {
      uri = parseUri(req.uri);
    } catch {
      return false; // answered 416/400 the usual way
    }
    if (!BUILTIN_USERS.has(uri.user ?? '') || !core.isLocal(uri.host, uri.port)) return false;
    bump(stats.requests, 'INVITE');
    stats.callsShed++;
    answerStateless(req, source, 503, 'Service Unavailable (call limit reached)', [['Retry-After', String(callLimits.retryAfterS)]]);
    return true;
  }

  function onRequest(req: SipMessage, tx: ServerTransaction | undefined, source: Endpoint): void {
    bump(stats.requests, req.method);
    if (!tx) return onAck(req);
    if (req.method !== 'CANCEL' && faults.errorRate && Math.random() < faults.errorRate) {
      stats.errorsByFault++;
      core.answer(tx, faults.errorCode ?? 503);
      return;
    }
    const uri = parseUri(req.uri);
    // RFC 3261 §8.2.2.1: a scheme we do not understand is answered 416.
    if (uri.scheme !== 'sip' && uri.scheme !== 'sips') {
      core.answer(tx, 416);
      return;
    }
    // §8.2.2.3 / §16.3: extensions in Require (and Proxy-Require, which we honour as a proxy) we lack: 420.
    const required = [...req.getAll('Require'), ...req.getAll('Proxy-Require')].filter((x) => !SUPPORTED_EXTENSIONS.has(x.toLowerCase()));
    if (required.length > 0 && req.method !== 'CANCEL') {
      core.answer(tx, 420, { headers: [['Unsupported', required.join(', ')]] });
      return;
    }
    // Loose routing (§16.4): a Route naming us is removed (both of a double record-route, RFC 5658); another
    // Route is the next hop.
    for (let i = 0; i < 2; i++) {
      const top = req.getAll('Route')[0];
      if (top === undefined || !isOurRoute(top)) break;
      req.removeFirst('Route');
    }
    const nextRoute = req.getAll('Route')[0];
    if (nextRoute) {
      proxy.forward(tx, req.uri, destinationOf(nextRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1')), false);
      return;
    }
    if (!core.isLocal(uri.host, uri.port)) {
      // An in-dialog request between two UAs record-routed through us: to the remote target, over the transport it names.
      proxy.forward(tx, req.uri, destinationOf(req.uri), false);
      return;
    }
    const user = uri.user ?? '';
    switch (req.method) {
      case 'REGISTER':
        return handleRegister(core, location, registrarOpts, tx, source);
      case 'INVITE':
        return onInvite(tx, user, source);
      case 'CANCEL':
        return onCancel(tx);
      case 'BYE':
      case 'INFO':
      case 'UPDATE':
      case 'PRACK':
        if (!uas.handleInDialog(tx)) core.answer(tx, 481);
        return;
      case 'MESSAGE':
        return onMessage(tx, user);
      case 'OPTIONS':
        // §8.2.3: a body of a type we do not understand is refused with 415 and what we accept.
        if (req.body.length > 0 && !ACCEPTED_TYPES.test(req.get('Content-Type') ?? '')) {
          core.answer(tx, 415, { headers: [['Accept', ACCEPT]] });
          return;
        }
        core.answer(tx, 200, { headers: [['Allow', ALLOW], ['Accept', ACCEPT], ['Supported', ''], ['Allow-Events', 'presence']] });
        return;
      case 'SUBSCRIBE':
        return presence.handleSubscribe(tx, source);
      case 'PUBLISH':
        return presence.handlePublish(tx);
      case 'SERVICE':
        return presence.handleService(tx);
      case 'NOTIFY':
        core.answer(tx, 481); // we subscribe to nothing
        return;
      default:
        // §8.2.1: a method we do not support is answered 405 with Allow.
        core.answer(tx, 405, { headers: [['Allow', ALLOW]] });
    }
  }

  function isOurRoute(route: string): boolean {
    const m = /<([^>]*)>/.exec(route);
    try {
      const u = parseUri(m ? m[1]! : route);
      return core.isLocal(u.host, u.port) && isIP(bareHost(u.host)) !== 0;
    } catch {
      return false;
    }
  }

  function onInvite(tx: ServerTransaction, user: string, source: Endpoint): void {
    const req = tx.request;
    const type = req.get('Content-Type');
    if (req.body.length > 0 && (!type || !INVITE_TYPES.test(type))) {
      // RFC 3261 §21.4.13 / RFC 4475 §3.3.6: 415 with Accept listing what we take.
      core.answer(tx, 415, { headers: [['Accept', 'application/sdp']] });
      return;
    }
    if (core.authInvite && !req.to().tag) {
      if (authenticate(core, tx, true) === undefined) return;
    }
    if (BUILTIN_USERS.has(user) || req.to().tag) return uas.handleInvite(tx, user, source);
    const bindings = location.lookupUser(user);
    if (bindings.length === 0) {
      core.answer(tx, user && users.password(user) !== undefined ? 480 : 404);
      return;
    }
    const b = bindings[bindings.length - 1]!;
    proxy.forward(tx, b.uri, b.source, true);
  }

  function onMessage(tx: ServerTransaction, user: string): void {
    if (user === 'echo' || user === 'service') {
      core.answer(tx, 200);
      return;
    }
    const bindings = location.lookupUser(user);
    if (bindings.length === 0) {
      core.answer(tx, 404);
      return;
    }
    const b = bindings[bindings.length - 1]!;
    proxy.forward(tx, b.uri, b.source, false);
  }

  function onCancel(tx: ServerTransaction): void {
    const invite = layer.findInviteFor(tx.request);
    if (!invite) {
      core.answer(tx, 481); // §9.2: no matching transaction
      return;
    }
    core.answer(tx, 200);
    if (!uas.handleCancel(invite)) proxy.cancel(invite);
  }

  function onAck(req: SipMessage): void {
    for (let i = 0; i < 2; i++) {
      const top = req.getAll('Route')[0];
      if (top === undefined || !isOurRoute(top)) break;
      req.removeFirst('Route');
    }
    let uriHost = '';
    let uriPort: number | undefined;
    try {
      const u = parseUri(req.uri);
      uriHost = u.host;
      uriPort = u.port;
    } catch {
      return;
    }
    if (uas.handleAck(req.callId())) return;
    if (!core.isLocal(uriHost, uriPort)) {
      proxy.forwardStateless(req, req.uri, destinationOf(req.uri));
    }
  }

  // Bind every transport on the same port number (0: the first picks, the others follow), TLS on its own.
  let port = opts.port ?? 5060;
  let binding = port;
  const tlsOnly = protocols.every((p) => p === 'tls');
  for (let attempt = 0; ; attempt++) {
    try {
      for (const p of protocols) {
        const any = (opts.port ?? 5060) === 0;
        binding =
          p === 'ws' ? (opts.wsPort ?? (any ? 0 : 8080))
          : p === 'wss' ? (opts.wssPort ?? (any ? 0 : 8443))
          : p !== 'tls' ? port : (opts.tlsPort ?? (any ? 0 : tlsOnly ? port : port + 1));
        const t = await createTransport({
          protocol: p,
          host,
          port: binding,
          listen: true,
          limits: opts.limits,
          tls: p === 'tls' || p === 'wss' ? opts.tls : undefined,
          events: {
            onMessage: receive,
            onError: (code, detail) => {
              bump(stats.transportErrors, code);
              opts.onError?.(code, detail);
            },
            onConnectionLost: (remote, code, detail) => {
              // Requests forwarded over it fail now (§17.1.4), not after Timer B/F.
              layer.connectionLost(remote, code, detail);
              wsHosts.forget(remote);
              const conn = aliasKey(remote);
              for (const k of aliasesOf.get(conn) ?? []) if (aliases.get(k) && aliasKey(aliases.get(k)!) === conn) aliases.delete(k);
              aliasesOf.delete(conn);
            },
          },
        });
        transports.set(p, t);
        if (port === 0 && (p === 'udp' || p === 'tcp')) port = t.local.port;
      }
      break;
    } catch (err) {
      for (const t of transports.values()) await t.close();
      transports.clear();
      if ((err as { code?: string }).code === 'TLS_FILE_UNREADABLE') {
        await core.media?.close();
        throw err;
      }
      if ((opts.port ?? 5060) !== 0 || (opts.tlsPort ?? 0) !== 0 || (opts.wsPort ?? 0) !== 0 || (opts.wssPort ?? 0) !== 0 || attempt >= 5) {
        const code = (err as NodeJS.ErrnoException).code;
        await core.media?.close();
        throw Object.assign(new Error(`cannot listen on ${host}:${binding || (opts.port ?? 5060)} (${code ?? (err as Error).message})`), {
          code: code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'LISTEN_FAILED',
          exitCode: 3,
        });
      }
      port = 0;
    }
  }
  const sweep = () => {
    location.sweep();
    sweepHandle = wheel.schedule(30_000, sweep);
  };
  let sweepHandle = wheel.schedule(30_000, sweep);

  return {
    endpoints: localEndpoints(),
    stats: () => ({
      ...structuredClone(stats),
      registrations: location.size,
      distinctRegistered: location.everRegistered.size,
      subscriptions: presence.subscriptionCount,
      activeCalls: uas.activeCalls,
      transactions: { ...layer.counters },
      media: { ...core.media!.stats },
    }),
    registeredAors: () => location.aorList(),
    setFaults(f) {
      faults = { ...f };
      pauseStart = wheel.now() + (faults.pauseAtMs ?? 0);
    },
    async close() {
      sweepHandle.cancel();
      layer.clear();
      wheel.stop();
      for (const t of transports.values()) await t.close();
      await core.media?.close();
    },
  };
}

/**
 * The headers of a datagram that did not parse, when it is a request whose headers do: its request
 * line is replaced by a neutral one if that is what failed, so that the 400 can reach the sender.
 */
function requestHeaders(data: Buffer): SipMessage | undefined {
  const text = data.toString('latin1', 0, Math.min(data.length, 8));
  if (text.startsWith('SIP/') || !/^[A-Za-z]/.test(text)) return undefined;
  for (const attempt of [data, neutralRequestLine(data)]) {
    if (!attempt) continue;
    try {
      const head = parseMessage(attempt, { headersOnly: true });
      if (head.isRequest) return head;
    } catch {
      /* try the next way, or give up: dropped, already counted */
    }
  }
  return undefined;
}

function neutralRequestLine(data: Buffer): Buffer | undefined {
  // The request line ends in CRLF, or in a bare LF (which parseMessage reads too).
  const lf = data.indexOf(10);
  if (lf < 0) return undefined;
  const eol = lf > 0 && data[lf - 1] === 13 ? lf - 1 : lf;
  return Buffer.concat([Buffer.from('OPTIONS sip:invalid SIP/2.0'), data.subarray(eol)]);
}

function sipaeServer(o: LoginOptions, realm: string, host: string, users: UserDirectory, now: () => number): SipaeServer | undefined {
  if (!o.ntlm && !o.kerberos) return undefined;
  let kerberos;
  if (o.kerberos) {
    const targetname = o.kerberos.targetname ?? `sip/${host}`;
    const keys = keysFor(o.kerberos.keys, targetname);
    if (!keys.length) throw new KeytabError('KEYTAB_NO_SERVICE_KEY', `the keytab holds no key for ${targetname} (the service principal Kerberos tickets are asked for)`);
    kerberos = { targetname, acceptor: new KerberosAcceptor(keys) };
  }
  return new SipaeServer({
    realm, now, kerberos, offerDigest: o.digest !== false,
    ntlm: o.ntlm && { targetname: o.ntlm.targetname ?? host, passwordOf: (u) => users.password(u) },
  });
}
