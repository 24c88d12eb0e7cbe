// The suite runner's side of the wire: a socket of the target's transport
// (UDP, TCP or TLS), opened again for each case, since several fixtures share
// a branch and one sent-by would make the later ones look like
// retransmissions of the first (RFC 3261 §17.2.3); what comes back routed to
// the case being played by Call-ID (requests from the server answered 200
// and kept for its `receive` steps, non-2xx finals to its INVITEs
// acknowledged, §17.1.1.3), the exchange of one request for its answer, the
// liveness OPTIONS, and the ladder of every case. Over TCP and TLS the top
// Via names the transport (and over TLS carries RFC 5923's alias, so that the
// server's requests to us reuse our connection).

import { randomBytes, randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { createResponse, findCallId, parseMessage, serializeMessage, type SipMessage } from '../codec/index.js';
import { ConformanceChecker } from '../conformance/index.js';
import { redact } from '../ua/redact.js';
import { buildAckForNon2xx } from '../transaction/index.js';
import { createTransport, type Endpoint, type TlsOptions, type WsOptions, type Transport } from '../transport/index.js';
import { renderTemplate, type Template } from '../scenario/index.js';
import { CaseVars } from './case-checks.js';
import { requestTemplate, type SuiteCase } from './load.js';
import { cseqOf, cseqText, topBranch } from './message-parts.js';
import { rewriteTopVia } from './rewrite.js';

export interface LadderEntry {
  /** Milliseconds since the case began. */
  t: number;
  dir: 'sent' | 'received';
  data: Buffer;
}

export interface CaseResult {
  suite: string;
  case: SuiteCase;
  /** The last final status received; undefined when none came. */
  status?: number;
  reasonPhrase?: string;
  /** Why the case failed; undefined when it passed. */
  problem?: string;
  /** The server had stopped answering before this case. */
  notRun?: boolean;
  /** Why the case does not apply to this server (e.g. it offers no SHA-256 challenge); it neither passed nor failed. */
  notApplicable?: string;
  ms: number;
  ladder: LadderEntry[];
}

export interface SuiteRunnerOptions {
  target: Endpoint;
  targetHostText: string;
  localHost: string;
  /** How long to wait for an answer a case needs (default 4 s; an answer ends the wait). */
  answerMs?: number;
  /** How long silence must last to count as "no answer" where no answer is acceptable (default 1 s). */
  silenceMs?: number;
  /**
   * The domain (host or host:port) of the Request-URI and To of every case, so that a server's relay policy does not
   * decide a verdict about parsing: templates get it as ${domain} (default: the target's host:port), and torture
   * messages have their Request-URI and To hosts replaced by it (left as written when absent).
   */
  domain?: string;
  /** The account cases register and authenticate as; default a fresh user{n}/secret{n} per case. */
  user?: string;
  password?: string;
  /** --var NAME=VALUE: more ${NAME} for the cases' templates (the built-in names come first). */
  vars?: Record<string, string>;
  /** TLS client settings (the target's certificate is checked unless rejectUnauthorized is false). */
  tls?: TlsOptions;
  /** WebSocket targets: the upgrade's path, Origin and extra headers. */
  ws?: WsOptions;
}

/** `res` is undefined for a datagram that did not parse. */
type Waiter = (res: SipMessage | undefined, raw: Buffer) => void;

/** One case being played: its identity, its ladder and the requests the server sent it. */
export interface Flow {
  callId: string;
  started: number;
  vars: Record<string, string>;
  cseq: number;
  ladder: LadderEntry[];
  inbox: SipMessage[];
  wake?: () => void;
  lastAuth?: { name: string; value: string };
  /** The last request sent of each method, and the final answer it got (for `final` steps and their ACK). */
  sent: Map<string, SipMessage>;
  finals: Map<string, SipMessage>;
  /** How many times each final answer came (by `CSeq` text): more than once is a retransmission. */
  finalCount: Map<string, number>;
  /** The last request sent, for a `resend` step. */
  lastSent?: Outgoing;
  /** INVITEs sent, by branch: every non-2xx final answer to one is acknowledged (§17.1.1.3), unless a step holds it. */
  invites: Map<string, SipMessage>;
  holdAck: boolean;
  /** Set when a step with `auth: answer` got its 2xx without any challenge: why a later `replay` does not apply. */
  unchallenged?: string;
}

export interface Outgoing {
  data: Buffer;
  msg?: SipMessage;
  cseq?: string;
}

const OPTIONS_TEMPLATE = requestTemplate(
  'OPTIONS sip:${target.host}:${target.port} SIP/2.0\nVia: SIP/2.0/UDP ${local};branch=${branch};rport\nMax-Forwards: 70\n' +
  'From: <sip:sipstorm@${local}>;tag=${tag}\nTo: <sip:${target.host}:${target.port}>\nCall-ID: ${call.id}\nCSeq: 1 OPTIONS\nContent-Length: 0\n');

export abstract class SuiteLink {
  protected checker = this.newChecker();
  /** Messages from the server that no case waited for. */
  unexpected = 0;
  /** Datagrams from the server that did not parse. */
  unparsable = 0;
  protected readonly waiters = new Map<string, Waiter>();
  protected readonly finished = new Set<string>();
  protected anyWaiter: Waiter | undefined;
  protected flow: Flow | undefined;
  protected deadAfter: string | undefined;
  protected transport!: Transport;
  protected local = '';

  protected constructor(protected readonly opts: SuiteRunnerOptions) {}

  protected async openSocket(): Promise<void> {
    this.transport = await createTransport({
      protocol: this.opts.target.protocol,
      host: this.opts.localHost,
      port: 0,
      tls: this.opts.tls,
      ws: this.opts.ws,
      events: { onMessage: (data, source) => this.onMessage(data, source), onError: () => undefined },
    });
    const l = this.transport.local;
    this.local = `${isIPv6(l.host) ? `[${l.host}]` : l.host}:${l.port}`;
  }

  /** A checker whose examples have the digest secrets masked, as a load run's do. */
  protected newChecker(): ConformanceChecker {
    return new ConformanceChecker((text) => redact(text, this.secrets()));
  }

  /** The passwords a case may use: --password, or the current case's secret{n}. */
  protected secrets(): string[] {
    return [this.opts?.password, this.flow?.vars.password].filter((s): s is string => s !== undefined);
  }

  /**
   * The ladder as reports show it: digest `response`, `cnonce` and `rspauth`
   * values and the passwords masked (engine/ua/redact.ts), since with the
   * nonce, realm and URI beside them a response allows an offline dictionary
   * attack on the password.
   */
  protected reportLadder(flow: Flow): LadderEntry[] {
    // Bytes as latin1 keep a torture message's invalid UTF-8 intact; the passwords are compared in the same form.
    const secrets = [this.opts.password, flow.vars.password].filter((s): s is string => s !== undefined).map((s) => Buffer.from(s, 'utf8').toString('latin1'));
    return flow.ladder.map((e) => ({ ...e, data: Buffer.from(redact(e.data.toString('latin1'), secrets), 'latin1') }));
  }

  /** The catalog's counts since the last call (one suite's worth). */
  takeCounts(): ConformanceChecker['counts'] {
    const counts = this.checker.counts;
    this.checker = this.newChecker();
    return counts;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  protected onMessage(data: Buffer, source: Endpoint): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(data, { stream: this.stream });
    } catch {
      this.unparsable++;
      this.anyWaiter?.(undefined, data);
      return;
    }
    const callId = msg.get('Call-ID');
    const flow = this.flow && callId === this.flow.callId ? this.flow : undefined;
    if (msg.isRequest) {
      // A request of the case being played (a NOTIFY, a MESSAGE the server relayed to a binding of ours) is answered
      // 200 and kept for its `receive` step; one of a finished case (a retransmission) is answered and let go.
      if (!flow && (callId === undefined || !this.finished.has(callId))) {
        this.unexpected++;
        return;
      }
      if (msg.method !== 'ACK') this.transport.send(serializeMessage(createResponse(msg, 200, 'OK', `t${randomBytes(4).toString('hex')}`)), source);
      if (flow) {
        flow.ladder.push({ t: performance.now() - flow.started, dir: 'received', data });
        this.checker.request(msg);
        flow.inbox.push(msg);
        flow.wake?.();
      }
      return;
    }
    if (flow && msg.status >= 200) {
      const method = cseqOf(msg)?.method;
      const key = cseqText(msg);
      if (key) flow.finalCount.set(key, (flow.finalCount.get(key) ?? 0) + 1);
      if (method && !flow.finals.has(method)) flow.finals.set(method, msg);
      if (method === 'INVITE' && msg.status >= 300 && !flow.holdAck) this.ackNon2xx(flow, msg);
      flow.wake?.();
    }
    const w = callId !== undefined ? this.waiters.get(callId) : undefined;
    if (w) return w(msg, data);
    if (flow) {
      flow.ladder.push({ t: performance.now() - flow.started, dir: 'received', data });
      return;
    }
    if (callId !== undefined && this.finished.has(callId)) return; // a retransmitted answer to an earlier case
    if (this.anyWaiter) return this.anyWaiter(msg, data);
    this.unexpected++;
  }

  protected get stream(): boolean {
    return this.opts.target.protocol !== 'udp';
  }

  protected vars(): Record<string, string> {
    const id = randomBytes(6).toString('hex');
    const n = randomInt(100_000, 1_000_000);
    return {
      ...this.opts.vars,
      local: this.local,
      'uri.transport': this.stream ? `;transport=${this.opts.target.protocol}` : '',
      transport: this.opts.target.protocol.toUpperCase(),
      'target.host': this.opts.targetHostText,
      'target.port': String(this.opts.target.port),
      domain: this.opts.domain ?? `${this.opts.targetHostText}:${this.opts.target.port}`,
      'call.id': `conform-${id}@sipstorm`,
      branch: `z9hG4bK-conform-${id}`,
      tag: `t${id}`,
      user: this.opts.user ?? `user${n}`,
      password: this.opts.password ?? `secret${n}`,
    };
  }

  /** A template filled in with the case's variables; `${length}` last, the body's size once the rest is filled. */
  protected fill(template: Template, v: Record<string, string>): Buffer {
    const text = renderTemplate(template, new CaseVars(v));
    const length = String(Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4)));
    const data = Buffer.from(text.replace(/\$\{length\}/g, length));
    return this.stream ? this.readdress(data) : data;
  }

  /**
   * The top Via names this tester over the target's transport (and, over TLS, asks for connection reuse). A message
   * whose headers end where its datagram does (RFC 4475's baddn.dat) gets the empty line that ends them on a stream.
   */
  protected readdress(data: Buffer): Buffer {
    const p = this.opts.target.protocol;
    const out = rewriteTopVia(data, this.local, p.toUpperCase(), p === 'tls' ? ';alias' : '');
    return out.includes('\r\n\r\n') ? out : Buffer.concat([out, Buffer.from(out.subarray(-2).toString() === '\r\n' ? '\r\n' : '\r\n\r\n')]);
  }

  /**
   * Sends `data` and waits for its final answer (or, `provisional`, its first answer above 100), matched by Call-ID
   * (any answer when it has none) and, when `cseq` is given, by CSeq number and method, so that a late answer to an
   * earlier step of the case is not taken for this one's.
   */
  protected exchange(data: Buffer, waitMs: number, flow?: Flow, cseq?: string, provisional = false): Promise<SipMessage | undefined> {
    const callId = findCallId(data.toString('latin1'));
    const started = performance.now();
    flow?.ladder.push({ t: started - flow.started, dir: 'sent', data });
    return new Promise((resolve) => {
      const done = (final?: SipMessage) => {
        clearTimeout(timer);
        if (callId !== undefined) {
          this.waiters.delete(callId);
          this.finished.add(callId);
        } else this.anyWaiter = undefined;
        resolve(final);
      };
      const timer = setTimeout(() => done(), waitMs);
      const waiter: Waiter = (res, raw) => {
        flow?.ladder.push({ t: performance.now() - flow.started, dir: 'received', data: raw });
        if (cseq !== undefined && res && cseqText(res) !== cseq) return;
        if (res && (res.status >= 200 || (provisional && res.status > 100))) done(res);
      };
      if (callId !== undefined) this.waiters.set(callId, waiter);
      else this.anyWaiter = waiter;
      this.transport.send(data, this.opts.target);
    });
  }

  /** An OPTIONS the server must answer: is it still there? */
  async alive(): Promise<boolean> {
    const v = this.vars();
    const data = this.fill(OPTIONS_TEMPLATE, v);
    for (let attempt = 0; attempt < 3; attempt++) {
      const final = await this.exchange(data, 700);
      if (final) {
        this.checker.response(parseMessage(data), final);
        return true;
      }
    }
    return false;
  }

  /** §17.1.1.3: a non-2xx final answer to an INVITE is acknowledged (each time it comes), or the server sends it for 32 s. */
  protected ackNon2xx(flow: Flow, final: SipMessage): void {
    const invite = flow.invites.get(topBranch(final));
    if (invite && final.status >= 300) this.transport.send(serializeMessage(buildAckForNon2xx(invite, final)), this.opts.target);
  }

  /** Polls `get` each time the server sends the case something, until it returns a value or the answer wait ends. */
  protected async until<T>(flow: Flow, get: () => T | undefined, waitMs = this.opts.answerMs ?? 4000): Promise<T | undefined> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        flow.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      flow.wake = undefined;
    }
  }
}
