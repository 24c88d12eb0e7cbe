// Plays conformance suites against a server over UDP, TCP or TLS (the target's
// transport), one case at a time: sends
// the case's message, waits for the final answer (or its absence), judges it
// against the case's expectation, and then asks the server an OPTIONS to tell
// a server that chose silence from one that crashed (RFC 4475 §1: "a
// compliant element ... remains stable"). After a crash the remaining cases
// are not run, and say so.
//
// Torture messages go out byte for byte but for one change: the transport and
// sent-by of their top Via become this tester's (UDP, its address, rport),
// since RFC 3261 §18.2.2 sends the answer there and the fixtures name hosts
// like 192.0.2.2 that are not us. With --domain, the hosts of their
// Request-URI and To become that domain too (a server that relays only for
// its own domains would otherwise answer 403 before it parses them). Each
// case is sent from a socket of its own: several fixtures share a branch, and
// one sent-by would make the later ones look like retransmissions of the
// first (§17.2.3).
//
// Over TCP and TLS each case (and the OPTIONS after it) has a connection of
// its own; the top Via names the transport (and over TLS carries RFC 5923's
// alias, so that the server's requests to us reuse our connection), Contacts
// of ${local} get transport=; cases that test what only a datagram has are
// not applicable (SuiteCase.datagramOnly).

import { randomBytes, randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createResponse, findCallId, parseMessage, serializeMessage, type SipMessage } from '../codec/index.js';
import { buildAuthorization, pickChallenge, type DigestChallenge } from '../auth/index.js';
import { ConformanceChecker } from '../conformance/index.js';
import { redact } from '../ua/redact.js';
import { buildAckForNon2xx } from '../transaction/index.js';
import { createTransport, type Endpoint, type TlsOptions, type Transport, type WsOptions } from '../transport/index.js';
import { compileSafeRegex, escapeRegex } from '../scenario/index.js';
import { judge } from './expectation.js';
import type { SuiteCase, SuiteStep } from './load.js';

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

interface StepOutcome {
  final?: SipMessage;
  problem?: string;
  notApplicable?: string;
}

/** One case being played: its identity, its ladder and the requests the server sent it. */
interface Flow {
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

interface Outgoing {
  data: Buffer;
  msg?: SipMessage;
  cseq?: string;
}

const OPTIONS_TEMPLATE =
  'OPTIONS sip:${target.host}:${target.port} SIP/2.0\nVia: SIP/2.0/UDP ${local};branch=${branch};rport\nMax-Forwards: 70\n' +
  'From: <sip:sipstorm@${local}>;tag=${tag}\nTo: <sip:${target.host}:${target.port}>\nCall-ID: ${call.id}\nCSeq: 1 OPTIONS\nContent-Length: 0\n';

export class SuiteRunner {
  private checker = this.newChecker();
  /** Messages from the server that no case waited for. */
  unexpected = 0;
  /** Datagrams from the server that did not parse. */
  unparsable = 0;
  private readonly waiters = new Map<string, Waiter>();
  private readonly finished = new Set<string>();
  private anyWaiter: Waiter | undefined;
  private flow: Flow | undefined;
  private deadAfter: string | undefined;
  private transport!: Transport;
  private local = '';

  private constructor(private readonly opts: SuiteRunnerOptions) {}

  static async open(opts: SuiteRunnerOptions): Promise<SuiteRunner> {
    const r = new SuiteRunner(opts);
    await r.openSocket();
    return r;
  }

  private async openSocket(): Promise<void> {
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
  private newChecker(): ConformanceChecker {
    return new ConformanceChecker((text) => redact(text, this.secrets()));
  }

  /** The passwords a case may use: --password, or the current case's secret{n}. */
  private secrets(): string[] {
    return [this.opts?.password, this.flow?.vars.password].filter((s): s is string => s !== undefined);
  }

  /**
   * The ladder as reports show it: digest `response`, `cnonce` and `rspauth`
   * values and the passwords masked (engine/ua/redact.ts), since with the
   * nonce, realm and URI beside them a response allows an offline dictionary
   * attack on the password.
   */
  private reportLadder(flow: Flow): LadderEntry[] {
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

  private onMessage(data: Buffer, source: Endpoint): void {
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

  private get stream(): boolean {
    return this.opts.target.protocol !== 'udp';
  }

  private vars(): Record<string, string> {
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

  /** A template with its line ends made CRLF and its ${...} filled in; `length` is the body's size once filled. */
  private fill(template: string, v: Record<string, string>): Buffer {
    let text = withContactTransport(template).replace(/\r?\n/g, '\r\n');
    if (!text.includes('\r\n\r\n')) text += '\r\n';
    text = text.replace(/\$\{([\w.]+)\}/g, (whole, name: string) => (name === 'length' ? whole : (v[name] ?? whole)));
    const length = String(Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4)));
    const data = Buffer.from(text.replace(/\$\{length\}/g, length));
    return this.stream ? this.readdress(data) : data;
  }

  /**
   * The top Via names this tester over the target's transport (and, over TLS, asks for connection reuse). A message
   * whose headers end where its datagram does (RFC 4475's baddn.dat) gets the empty line that ends them on a stream.
   */
  private readdress(data: Buffer): Buffer {
    const p = this.opts.target.protocol;
    const out = rewriteTopVia(data, this.local, p.toUpperCase(), p === 'tls' ? ';alias' : '');
    return out.includes('\r\n\r\n') ? out : Buffer.concat([out, Buffer.from(out.subarray(-2).toString() === '\r\n' ? '\r\n' : '\r\n\r\n')]);
  }

  /**
   * Sends `data` and waits for its final answer (or, `provisional`, its first answer above 100), matched by Call-ID
   * (any answer when it has none) and, when `cseq` is given, by CSeq number and method, so that a late answer to an
   * earlier step of the case is not taken for this one's.
   */
  private exchange(data: Buffer, waitMs: number, flow?: Flow, cseq?: string, provisional = false): Promise<SipMessage | undefined> {
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

  async run(suite: string, c: SuiteCase): Promise<CaseResult> {
    if (this.deadAfter) return { suite, case: c, notRun: true, problem: `not run: the server stopped answering after ${this.deadAfter}`, ms: 0, ladder: [] };
    if (this.stream && c.datagramOnly) return { suite, case: c, notApplicable: `over ${this.opts.target.protocol.toUpperCase()}: ${c.datagramOnly}`, ms: 0, ladder: [] };
    await this.transport.close();
    await this.openSocket();
    const vars = this.vars();
    const flow: Flow = { callId: vars['call.id']!, started: performance.now(), vars, cseq: 0, ladder: [], inbox: [], sent: new Map(), finals: new Map(), finalCount: new Map(), invites: new Map(), holdAck: false };
    // A torture message carries its own Call-ID: answers to it belong to this case.
    const own = c.steps[0]?.bytes && findCallId(c.steps[0].bytes.toString('latin1'));
    if (own) flow.callId = own;
    this.flow = flow;
    let last: SipMessage | undefined;
    let problem: string | undefined;
    let notApplicable: string | undefined;
    try {
      for (let i = 0; i < c.steps.length && !problem && !notApplicable; i++) {
        const step = c.steps[i]!;
        const where = c.steps.length > 1 ? `step ${i + 1}: ` : '';
        if (step.pauseMs) await sleep(step.pauseMs);
        const r: StepOutcome = step.receive !== undefined ? await this.receiveStep(flow, step) : step.final !== undefined ? await this.finalStep(flow, step) : await this.sendStep(flow, step);
        if (r.final) last = r.final;
        if (r.problem) problem = where + r.problem;
        notApplicable = r.notApplicable;
      }
    } finally {
      this.flow = undefined;
      this.finished.add(flow.callId);
    }
    if (this.stream) {
      // A connection the case broke on purpose (framing) must not fail the liveness check: a new one asks.
      await this.transport.close();
      await this.openSocket();
    }
    if (!(await this.alive())) {
      this.deadAfter = `${suite}/${c.id}`;
      problem = `${problem ? `${problem}; ` : ''}the server stopped answering OPTIONS after this case`;
    }
    return { suite, case: c, status: last?.status, reasonPhrase: last?.reason, problem, notApplicable, ms: performance.now() - flow.started, ladder: this.reportLadder(flow) };
  }

  /** Sends the step's request (answering a challenge when the step says how) and judges the final answer. */
  private async sendStep(flow: Flow, step: SuiteStep): Promise<StepOutcome> {
    const needsAnswer = !step.expect.drop && !step.expect.any;
    const waitMs = needsAnswer ? (this.opts.answerMs ?? 4000) : (this.opts.silenceMs ?? 1000);
    const next = (): Outgoing => {
      if (step.bytes) {
        const bytes = this.opts.domain ? rewriteDomain(step.bytes, this.opts.domain) : step.bytes;
        return { data: this.stream ? this.readdress(bytes) : rewriteTopVia(bytes, this.local) };
      }
      if (step.resend) return flow.lastSent ?? { data: Buffer.alloc(0) };
      flow.cseq++;
      const data = this.fill(step.template!, { ...flow.vars, cseq: String(flow.cseq), branch: `z9hG4bK-conform-${randomBytes(6).toString('hex')}` });
      let msg: SipMessage | undefined;
      try {
        msg = parseMessage(data);
      } catch {
        msg = undefined;
      }
      const cseq = msg ? cseqText(msg) : undefined;
      if (msg && cseq) {
        // What later steps of the case refer to: this request's branch and CSeq number (a CANCEL needs both of its INVITE).
        const m = msg.method.toLowerCase();
        flow.vars[`${m}.cseq`] = cseq.split(' ')[0]!;
        flow.vars[`${m}.branch`] = topBranch(msg);
        flow.sent.set(msg.method, msg);
        flow.finals.delete(msg.method);
      }
      return { data, msg, cseq };
    };
    let out = next();
    if (step.resend && !flow.lastSent) return { problem: 'nothing to resend: no earlier step of this case sent a request' };
    if (step.auth === 'replay') {
      // An earlier step that was never challenged (a server that asks no credentials) leaves nothing to replay.
      if (!flow.lastAuth) return flow.unchallenged ? { notApplicable: flow.unchallenged } : { problem: 'nothing to replay: no earlier step of this case answered a challenge' };
      out = withHeader(out.data, flow.lastAuth.name, flow.lastAuth.value);
    }
    const provisional = step.expect.ranges.length > 0 && step.expect.ranges.every(([, hi]) => hi < 200) && !step.expect.drop && !step.expect.any;
    const holdAck = step.retransmitted !== undefined;
    flow.holdAck = holdAck;
    let final = await this.send(flow, out, waitMs, provisional);
    if (final && out.msg && (final.status === 401 || final.status === 407) && step.auth && step.auth !== 'replay') {
      this.checker.response(out.msg, final);
      const header = final.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      const offered = final.getAll(header);
      const challenge = step.auth === 'MD5' || step.auth === 'SHA-256' ? pickAlgorithm(offered, step.auth) : pickChallenge(offered);
      if (!challenge) {
        if (step.auth === 'MD5' || step.auth === 'SHA-256') return { final, notApplicable: `the server offers no ${step.auth} challenge` };
        return { final, problem: `the ${final.status} carries no digest challenge we can answer in ${header}` };
      }
      if (step.auth === 'unknown-nonce') challenge.nonce = `sipstorm-never-issued-${randomBytes(8).toString('hex')}`;
      const password = step.auth === 'wrong-password' ? `${flow.vars.password}-wrong` : flow.vars.password!;
      out = next();
      if (!out.msg) return { final, problem: 'the step message does not parse' };
      const name = final.status === 401 ? 'Authorization' : 'Proxy-Authorization';
      const value = buildAuthorization(challenge, { method: out.msg.method, uri: out.msg.uri, body: out.msg.body }, { username: flow.vars.user!, password }, { nc: 0 });
      flow.lastAuth = { name, value };
      out = withHeader(out.data, name, value);
      final = await this.send(flow, out, waitMs, provisional);
    } else if (final && final.status >= 200 && final.status < 300 && step.auth && step.auth !== 'replay' && step.auth !== 'answer') {
      // MD5, SHA-256, a wrong password, an unknown nonce: each needs a challenge to answer. A server that accepts the
      // request without one asks for no credentials; the case says nothing about its digest and does not apply
      // (rather than pass). Any other answer is judged as usual.
      if (out.msg) this.checker.response(out.msg, final);
      return { final, notApplicable: `the server asked for no credentials (${out.msg?.method ?? 'the request'} answered ${final.status} ${final.reason} without a challenge)` };
    }
    if (final && !flow.lastAuth && step.auth === 'answer' && final.status >= 200 && final.status < 300) {
      flow.unchallenged = `the server asked for no credentials (${out.msg?.method ?? 'the request'} answered ${final.status} ${final.reason} without a challenge)`;
    }
    if (final && step.inapplicable && judge(step.inapplicable, final.status) === undefined) {
      return { final, notApplicable: `${out.msg?.method ?? 'the request'} answered ${final.status} ${final.reason}` };
    }
    // Messages built here are well-formed: their answers go through the catalog like any other.
    if (final && out.msg) this.checker.response(out.msg, final);
    let problem = judge(step.expect, final?.status) ?? (final ? this.inspect(step, final) : undefined);
    if (!problem && final && holdAck) problem = await this.awaitRetransmissions(flow, out, final, step.retransmitted!);
    return { final, problem };
  }

  /**
   * §17.2.1 (a non-2xx final answer to an INVITE, over UDP) and §13.3.1.4 (a 2xx): the server sends the final answer
   * again until the ACK comes. Waits, without acknowledging, until it has come `times` more times; then
   * acknowledges a non-2xx (a 2xx is acknowledged by a later step, as a new transaction).
   */
  private async awaitRetransmissions(flow: Flow, out: Outgoing, final: SipMessage, times: number): Promise<string | undefined> {
    const key = cseqText(final)!;
    const started = performance.now();
    const seen = await this.until(flow, () => ((flow.finalCount.get(key) ?? 0) > times ? true : undefined), Math.max(this.opts.answerMs ?? 4000, 4000));
    flow.holdAck = false;
    this.ackNon2xx(flow, final);
    const again = (flow.finalCount.get(key) ?? 1) - 1;
    if (seen) return undefined;
    return `the ${final.status} came ${again} more time${again === 1 ? '' : 's'} in ${((performance.now() - started) / 1000).toFixed(1)} s without an ACK; ${times} retransmissions were due`;
  }

  private async send(flow: Flow, out: Outgoing, waitMs: number, provisional: boolean): Promise<SipMessage | undefined> {
    flow.lastSent = out;
    let sent = out.msg;
    if (!sent && out.data) {
      try {
        sent = parseMessage(out.data);
      } catch {
        sent = undefined;
      }
    }
    if (sent?.isRequest && sent.method === 'INVITE') flow.invites.set(topBranch(sent), sent);
    return this.exchange(out.data, waitMs, flow, out.cseq, provisional);
  }

  /** §17.1.1.3: a non-2xx final answer to an INVITE is acknowledged (each time it comes), or the server sends it for 32 s. */
  private ackNon2xx(flow: Flow, final: SipMessage): void {
    const invite = flow.invites.get(topBranch(final));
    if (invite && final.status >= 300) this.transport.send(serializeMessage(buildAckForNon2xx(invite, final)), this.opts.target);
  }

  /** Waits for the final answer to the case's last request of the step's method, which an earlier step left at a provisional. */
  private async finalStep(flow: Flow, step: SuiteStep): Promise<StepOutcome> {
    const method = step.final!;
    const sent = flow.sent.get(method);
    if (!sent) return { problem: `no ${method} was sent before this step` };
    const final = await this.until(flow, () => flow.finals.get(method));
    if (!final) return { problem: `no final answer to the ${method} within ${Math.round((this.opts.answerMs ?? 4000) / 1000)} s` };
    this.checker.response(sent, final);
    return { final, problem: judge(step.expect, final.status) ?? this.inspect(step, final) };
  }

  /** Polls `get` each time the server sends the case something, until it returns a value or the answer wait ends. */
  private async until<T>(flow: Flow, get: () => T | undefined, waitMs = this.opts.answerMs ?? 4000): Promise<T | undefined> {
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

  /** Waits for a request the server must send in this case (answered 200 on arrival) and checks it. */
  private async receiveStep(flow: Flow, step: SuiteStep): Promise<StepOutcome> {
    const method = step.receive!.toUpperCase();
    const req = await this.until(flow, () => {
      const i = flow.inbox.findIndex((m) => m.method === method);
      return i >= 0 ? flow.inbox.splice(i, 1)[0] : undefined;
    });
    if (!req) return { problem: `no ${method} from the server within ${Math.round((this.opts.answerMs ?? 4000) / 1000)} s` };
    return { problem: this.inspect(step, req) };
  }

  /** The step's header requirements on an answer or a received request, then its captures. */
  private inspect(step: SuiteStep, msg: SipMessage): string | undefined {
    const what = msg.isRequest ? `the ${msg.method}` : `the ${msg.status} answer`;
    for (const rule of step.headers) {
      if (rule.when && judge(rule.when, msg.isRequest ? undefined : msg.status) !== undefined) continue;
      if (!rule.when && !msg.isRequest && msg.status < 200) continue;
      const missing = rule.names.filter((h) => msg.get(h) === undefined);
      if (missing.length) return `${what} has no ${missing.join(', ')} header`;
    }
    const vars = this.flow?.vars ?? {};
    for (const m of step.match) {
      const source = m.pattern.replace(/@\$\{local\}>/g, '@${local}${uri.transport}>').replace(/SIP\/2\.0\/UDP \$\{local\}/g, 'SIP/2.0/${transport} ${local}').replace(/\$\{([\w.]+)\}/g, (whole, name: string) => escapeRegex(vars[name] ?? whole));
      const pattern = compileSafeRegex(source, true);
      // A value too long for the pattern (MAX_WORK) is judged on its start.
      const values = msg.getAll(m.header).map((v) => v.slice(0, pattern.longestText));
      const hit = values.some((v) => pattern.test(v));
      if (hit && m.absent) return `${what} has ${m.header} matching /${source}/: ${values.join(', ')}`;
      if (!hit && !m.absent) return `${what} has no ${m.header} matching /${source}/${values.length ? ` (it has: ${values.join(', ')})` : ''}`;
    }
    for (const [name, spec] of step.capture) {
      const value = captureValue(msg, spec);
      if (value === undefined) return `${what} has nothing to take for \${${name}} (${spec})`;
      if (this.flow) this.flow.vars[name] = value;
    }
    return undefined;
  }
}

function cseqOf(msg: SipMessage): { seq: number; method: string } | undefined {
  try {
    return msg.cseq();
  } catch {
    return undefined;
  }
}

/** The top Via's branch; empty for a case that sends a broken Via on purpose. */
function topBranch(msg: SipMessage): string {
  try {
    return msg.topBranch();
  } catch {
    return '';
  }
}

/** `1 INVITE`: what tells the answers to the requests of one case apart. */
function cseqText(msg: SipMessage): string | undefined {
  const c = cseqOf(msg);
  return c ? `${c.seq} ${c.method}` : undefined;
}

/** `Header` (its first value), `Header;param` (a parameter of it) or `Header<uri>` (the URI between its angle brackets). */
function captureValue(msg: SipMessage, spec: string): string | undefined {
  const m = /^([\w-]+)(?:;([\w-]+)|<(uri)>)?$/.exec(spec.trim());
  if (!m) return undefined;
  const first = msg.get(m[1]!)?.trim();
  if (first === undefined) return undefined;
  if (m[2]) return new RegExp(`;\\s*${m[2]}\\s*=\\s*"?([^";,\\s>]+)`, 'i').exec(first)?.[1];
  if (m[3]) return /<([^>]*)>/.exec(first)?.[1] ?? first.split(';')[0];
  return first;
}

function pickAlgorithm(values: string[], algorithm: 'MD5' | 'SHA-256'): DigestChallenge | undefined {
  for (const v of values) {
    const ch = pickChallenge([v]);
    if (ch?.algorithm === algorithm) return ch;
  }
  return undefined;
}

/** The message with one more header line at the end of its headers. */
function withHeader(data: Buffer, name: string, value: string): { data: Buffer; msg?: SipMessage; cseq?: string } {
  const text = data.toString('latin1');
  const cut = text.indexOf('\r\n\r\n');
  const out = Buffer.from(`${text.slice(0, cut)}\r\n${name}: ${value}${text.slice(cut)}`, 'latin1');
  const msg = parseMessage(out);
  return { data: out, msg, cseq: cseqText(msg) };
}

/**
 * `<...@${local}>` in Contact lines becomes `<...@${local}${uri.transport}>`: a contact reached over TCP or TLS
 * says so (RFC 3261 §19.1.1). Header patterns get the same (they match what a server echoes of those Contacts).
 */
function withContactTransport(text: string): string {
  return text.includes('${local}>') ? text.replace(/^(?:Contact|m)[ \t]*:.*$/gim, (line) => line.replace(/@\$\{local\}>/g, '@${local}${uri.transport}>')) : text;
}

/** Puts `transport` (UDP by default) and `local` (with rport) as the transport and sent-by of the first Via, folded lines and compact form included. */
export function rewriteTopVia(msg: Buffer, local: string, transport = 'UDP', extraParams = ''): Buffer {
  const text = msg.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  if (/^SIP\//.test(head)) return msg; // a response: sent as it is
  const lws = String.raw`[ \t]*(?:\r\n[ \t]+)?`;
  const re = new RegExp(String.raw`(\r\n(?:Via|v)${lws}:${lws}SIP${lws}/${lws}2\.0${lws}/${lws})([A-Za-z]+)(${lws})([^;,\s]+)([^,\r\n]*)`, 'i');
  const m = re.exec(head);
  if (!m) return msg;
  let params = /;\s*rport/i.test(m[5]!) ? m[5]! : `;rport${m[5]}`;
  if (extraParams && !params.includes(extraParams)) params += extraParams;
  const out = head.slice(0, m.index) + m[1] + transport + m[3] + local + params + head.slice(m.index + m[0].length) + text.slice(head.length);
  return Buffer.from(out, 'latin1');
}

/**
 * `--domain`: the host (and port) of a torture request's Request-URI and of each To header's URI become `domain`;
 * every other byte stays (a test checks that). URIs of other schemes (unkscm, unksm2 test those) are left alone,
 * and so is a response.
 */
export function rewriteDomain(msg: Buffer, domain: string): Buffer {
  const text = msg.toString('latin1');
  if (/^SIP\//.test(text)) return msg;
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const headEnd = crlf < 0 ? (lf < 0 ? text.length : lf) : lf < 0 ? crlf : Math.min(crlf, lf);
  const head = text.slice(0, headEnd);
  const edits: [number, number][] = []; // spans of host[:port] to replace, in order
  // The Request-URI: the second token of the first line, perhaps between <> (ltgtruri.dat).
  const line = /^[^ \r\n]+ +<?/.exec(head);
  if (line) {
    const span = hostSpan(head, line[0].length, /[ \r\n>]/);
    if (span) edits.push(span);
  }
  // Each To (or t) header, folded lines included: its URI is after the first '<', or is the value itself.
  const header = /\r?\n(?:To|t)[ \t]*(?:\r?\n[ \t]+)?:/gi;
  for (let m = header.exec(head); m; m = header.exec(head)) {
    let end = m.index + m[0].length;
    while (end < head.length && !(head[end] === '\n' && head[end + 1] !== ' ' && head[end + 1] !== '\t')) end++;
    const value = head.slice(m.index + m[0].length, end);
    const lt = value.indexOf('<');
    let at = m.index + m[0].length + (lt >= 0 ? lt + 1 : 0);
    while (at < end && /[ \t\r\n]/.test(head[at]!)) at++;
    const span = hostSpan(head, at, lt >= 0 ? /[>\r\n]/ : /[ \t\r\n]/, end);
    if (span) edits.push(span);
  }
  if (edits.length === 0) return msg;
  let out = '';
  let last = 0;
  for (const [from, to] of edits.sort((a, b) => a[0] - b[0])) {
    out += text.slice(last, from) + domain;
    last = to;
  }
  return Buffer.from(out + text.slice(last), 'latin1');
}

/**
 * The span of host[:port] of the SIP URI that starts at `start`, whose text ends at `stop` (or `limit`): after the
 * first '@' when there is one (a user part may hold ';', '?' and ',', never a bare '@'), up to ':', ';', '?' or the end.
 */
function hostSpan(text: string, start: number, stop: RegExp, limit = text.length): [number, number] | undefined {
  const scheme = /^sips?:/i.exec(text.slice(start, start + 5));
  if (!scheme) return undefined;
  let end = start + scheme[0].length;
  while (end < limit && !stop.test(text[end]!)) end++;
  const uri = text.slice(start + scheme[0].length, end);
  const at = uri.indexOf('@');
  const hostStart = start + scheme[0].length + (at >= 0 ? at + 1 : 0);
  let i = hostStart;
  if (text[i] === '[') {
    const close = text.indexOf(']', i);
    if (close < 0 || close >= end) return undefined;
    i = close + 1;
  } else {
    while (i < end && !/[:;?>\s]/.test(text[i]!)) i++;
  }
  if (text[i] === ':') {
    i++;
    while (i < end && text[i]! >= '0' && text[i]! <= '9') i++;
  }
  return i > hostStart ? [hostStart, i] : undefined;
}
