// The embedded reference server (`sipstorm serve`, and the default target of
// `sipstorm run`): transports, the transaction layer, and the dispatch of each
// request to the registrar, presence server, built-in UAS or proxy-lite, with
// RFC 3261 §8.2 request checks and the fault knobs. Every malformed input is
// counted and answered 400 when it can be, dropped otherwise; never a crash.

import { isIP } from 'node:net';
import {
  createResponse, newBranch, newTag, parseMessage, parseUri, serializeMessage, SipParseError, validateMessage,
  type SipMessage,
} from '../codec/index.js';
import { NonceStore, type DigestAlgorithm } from '../auth/index.js';
import { TimerWheel } from '../timer/index.js';
import { TransactionLayer, type ServerTransaction } from '../transaction/index.js';
import {
  createTransport, responseDestination, stampReceived, type Endpoint, type Protocol, type Transport,
} from '../transport/index.js';
import { authenticate } from './auth.js';
import { ALLOW, bump, makeAnswer, newServerStats, type ServerCore, type ServerStats } from './core.js';
import { faultDelay, type ServerFaults } from './faults.js';
import { LocationService } from './location.js';
import { PresenceServer } from './presence.js';
import { Proxy, uriDestination } from './proxy.js';
import { handleRegister, type RegistrarOptions } from './registrar.js';
import { BUILTIN_USERS, BuiltinUas } from './uas.js';
import { createUserDirectory, type UserSource } from './users.js';

export interface ServerOptions {
  host?: string;
  port?: number;
  transports?: Protocol[];
  tls?: { certFile: string; keyFile: string };
  users?: UserSource;
  realm?: string;
  authInvite?: boolean;
  /** Challenges offered, most preferred first (RFC 8760 §2.4); default MD5 alone, which every UA answers. */
  algorithms?: DigestAlgorithm[];
  faults?: ServerFaults;
  registrar?: Partial<RegistrarOptions>;
  /** Stream buffer limits (defaults: 64 KiB of headers, 1 MiB of body). */
  limits?: { maxHeaderBytes?: number; maxBodyBytes?: number };
  /** Called for every counted fault (parse errors, transport errors), e.g. for logging. */
  onError?(code: string, detail: string): void;
}

export interface ServerSnapshot extends ServerStats {
  registrations: number;
  /** Distinct AORs registered at any time since start. */
  distinctRegistered: number;
  subscriptions: number;
  activeCalls: number;
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

  const send = (data: Buffer, dest: Endpoint) => {
    const t = transports.get(dest.protocol) ?? transports.values().next().value!;
    t.send(data, dest);
  };
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
    local: (p) => (transports.get(p) ?? transports.values().next().value!).local,
    answer: (tx, status, o = {}) => makeAnswer(core, tx, status, o, newTag),
    sendRequest: (req, dest, user) => {
      layer.sendRequest(req, dest, user);
    },
    via: (p, branch) => `SIP/2.0/${p.toUpperCase()} ${core.hostPort(p)};branch=${branch ?? newBranch()};rport`,
    hostPort: (p) => {
      const l = core.local(p);
      return `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
    },
    isLocal: (uriHost, uriPort) => {
      const h = uriHost.startsWith('[') ? uriHost.slice(1, -1) : uriHost;
      if (!isIP(h)) return h.toLowerCase() !== 'invalid'; // a domain name: we are the registrar for every domain
      return localEndpoints().some((l) => (l.host === h || (l.host === '0.0.0.0' && isIP(h) === 4)) && l.port === (uriPort ?? 5060));
    },
  };
  const location = new LocationService(() => wheel.now());
  const presence = new PresenceServer(core);
  const uas = new BuiltinUas(core);
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
      msg = parseMessage(data, { stream: source.protocol !== 'udp' });
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

  /** Answers outside any transaction (malformed requests); drops what cannot be answered. */
  function answerStateless(req: SipMessage, source: Endpoint, status: number, reason?: string): void {
    if (req.method === 'ACK') return;
    try {
      if (!req.has('Via') || !req.has('CSeq') || !req.has('Call-ID')) return;
      const res = createResponse(req, status, reason?.replace(/[\r\n]/g, ' ').slice(0, 120), newTag());
      bump(stats.responses, status);
      const dest = (() => {
        try {
          return responseDestination(req, source);
        } catch {
          return source;
        }
      })();
      send(serializeMessage(res), dest);
    } catch {
      /* unanswerable: counted already */
    }
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
    // Loose routing (§16.4): a Route naming us is removed; another Route is the next hop.
    const routes = req.getAll('Route');
    if (routes.length > 0 && isOurRoute(routes[0]!)) {
      req.removeFirst('Route');
    }
    const nextRoute = req.getAll('Route')[0];
    if (nextRoute) {
      proxy.forward(tx, req.uri, uriDestination(nextRoute.replace(/^[^<]*<([^>]*)>.*$/, '$1'), source.protocol), false);
      return;
    }
    if (!core.isLocal(uri.host, uri.port)) {
      // An in-dialog request between two UAs record-routed through us.
      proxy.forward(tx, req.uri, uriDestination(req.uri, source.protocol), false);
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
      return core.isLocal(u.host, u.port) && isIP(u.host.replace(/^\[|\]$/g, '')) !== 0;
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
    const routes = req.getAll('Route');
    if (routes.length > 0 && isOurRoute(routes[0]!)) req.removeFirst('Route');
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
      proxy.forwardStateless(req, req.uri, uriDestination(req.uri, 'udp'));
    }
  }

  // Bind every transport on the same port number (0: the first picks, the others follow).
  let port = opts.port ?? 5060;
  for (let attempt = 0; ; attempt++) {
    try {
      for (const p of protocols) {
        const t = await createTransport({
          protocol: p,
          host,
          port,
          listen: true,
          limits: opts.limits,
          tls: p === 'tls' ? opts.tls : undefined,
          events: {
            onMessage: receive,
            onError: (code, detail) => {
              bump(stats.transportErrors, code);
              opts.onError?.(code, detail);
            },
          },
        });
        transports.set(p, t);
        if (port === 0) port = t.local.port;
      }
      break;
    } catch (err) {
      for (const t of transports.values()) await t.close();
      transports.clear();
      if ((err as { code?: string }).code === 'TLS_FILE_UNREADABLE') throw err;
      if ((opts.port ?? 5060) !== 0 || attempt >= 5) {
        const code = (err as NodeJS.ErrnoException).code;
        throw Object.assign(new Error(`cannot listen on ${host}:${opts.port ?? 5060} (${code ?? (err as Error).message})`), {
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
