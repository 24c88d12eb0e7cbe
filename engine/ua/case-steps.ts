// The steps of a conformance case on the UA core: CaseInstance is the
// scenario instance (the same interpreter, UAC, UAS and step outcome) that
// plays a case's program (made by engine/suites, its ${NAME}s the case's own
// variables), its case steps taking the place of the scenario ones; a load
// run's instances never pay for them. A case's send is a `raw` step whose
// request goes out stateless (a torture message must reach the server as
// written but for its top Via) and whose answer is matched by its Call-ID
// (any answer when it has none) and, for a message built from a template, by
// its CSeq, so that a late answer to an earlier step is not taken for this
// one's. Around that exchange: `drop` and `any` expectations (silence waited
// for), provisional expectations (a later `await` step takes the final),
// `resend`, the digest modes (answer, MD5, SHA-256, wrong password, unknown
// nonce, replay; RFC 3261 §22.2, §22.3, RFC 8760), `retransmitted: N` (the
// ACK held until the final came N more times, §17.2.1, §13.3.1.4),
// `inapplicable` answers, and the header checks of case-checks.ts. A case's
// `receive` is a `recv` step: every request of the case is answered 200 as
// it comes and kept for it. A non-2xx final to an INVITE of the case is
// acknowledged each time it comes (§17.1.1.3) unless a step holds the ACK.
// The case's verdict (last final, problem, why not applicable) is what the
// suite runner reports.

import { randomBytes } from 'node:crypto';
import { buildAuthorization, pickChallenge } from '../auth/index.js';
import { createResponse, findCallId, serializeMessage, type SipMessage } from '../codec/index.js';
import type { AwaitStep, CaseStepOptions, RawStep, RecvStep, Template } from '../scenario/index.js';
import { renderTemplate } from '../scenario/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import { buildAckForNon2xx } from '../transaction/index.js';
import { caseProblem, cseqOf, cseqText, parsedOrNot, pickAlgorithm, topBranch, withHeader, type CaseMessage } from './case-checks.js';
import { judge } from './expect.js';
import { ScenarioInstance } from './instance.js';
import type { Identity } from './identity.js';
import type { InstanceOutcome, RoleRuntime, UaHost, UaSocket } from './ua-host.js';

/** What a case's host does for its steps besides UaHost: the wire rules of engine/suites (rewrite.ts). */
export interface CaseWire {
  /** A case's message as it goes on the host's transport: torture bytes get their top Via (and --domain hosts) rewritten, a templated message, over a stream, its top Via's transport. */
  caseBytes(data: Buffer, torture: boolean): Buffer;
  /** While `inst` waits for the answer to a message without a Call-ID, responses no Call-ID routes go to it. */
  takeUnrouted(inst: CaseInstance | undefined): void;
}

/** How a case ended, in the suite's terms. */
export interface CaseVerdict {
  /** The last final answer a step took. */
  status?: number;
  reasonPhrase?: string;
  problem?: string;
  notApplicable?: string;
}

type Send = RawStep & { case: CaseStepOptions };

export class CaseInstance extends ScenarioInstance {
  readonly verdict: CaseVerdict = {};
  private caseSeq = 0;
  /** While a send is rendered: its CSeq number and branch are ${cseq} and ${branch}. */
  private rendering: { branch: string } | undefined;
  private caseLast: CaseMessage | undefined;
  private lastAuth: { name: string; value: string } | undefined;
  /** Set when a step with `auth: answer` got its 2xx without any challenge: why a later `replay` does not apply. */
  private unchallenged: string | undefined;
  /** The last request sent of each method, and the first final answer it got (for `await` steps and their ACK). */
  private readonly sentByMethod = new Map<string, SipMessage>();
  private readonly finals = new Map<string, SipMessage>();
  /** How many times each final answer came (by `CSeq` text): more than once is a retransmission. */
  private readonly finalCount = new Map<string, number>();
  /** INVITEs sent, by branch: every non-2xx final answer to one is acknowledged, unless a step holds it. */
  private readonly invites = new Map<string, SipMessage>();
  private holdAck = false;
  private readonly caseInbox: SipMessage[] = [];
  /** The exchange waiting for its answer; the wait (`until`) re-checking on each message of the case. */
  private caseTake: ((res: SipMessage) => void) | undefined;
  private caseWake: (() => void) | undefined;

  constructor(private readonly wire: UaHost & CaseWire, role: RoleRuntime, me: Identity, socket: UaSocket, onDone: (o: InstanceOutcome) => void) {
    super(wire, role, me, undefined, wire.wheel.now(), socket, onDone);
  }

  // ---- variables: the case's own, a name it lacks kept as written (${length} filled once the rest is) ----

  override lookup(name: string): string | undefined {
    if (this.rendering && name === 'cseq') return String(this.caseSeq);
    if (this.rendering && name === 'branch') return this.rendering.branch;
    if (name === 'length') return '${length}';
    const vars = this.rt.scenario.vars;
    return this.vars?.get(name) ?? (Object.hasOwn(vars, name) ? vars[name] : `\${${name}}`);
  }

  private fill(t: Template): Buffer {
    this.rendering = { branch: `z9hG4bK-conform-${randomBytes(6).toString('hex')}` };
    let text: string;
    try {
      text = renderTemplate(t, this);
    } finally {
      this.rendering = undefined;
    }
    const length = String(Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4)));
    return this.wire.caseBytes(Buffer.from(text.replace(/\$\{length\}/g, length)), false);
  }

  private keep(name: string, value: string): void {
    (this.vars ??= new Map()).set(name, value);
  }

  // ---- steps ----

  protected override doRaw(step: RawStep): void {
    if (!step.case) return super.doRaw(step);
    this.caseSend(step as Send);
  }

  protected override doRecv(step: RecvStep): void {
    if (!step.case) return super.doRecv(step);
    const o = step.case;
    const method = step.method;
    const m = this.metrics(step);
    this.until(() => {
      const i = this.caseInbox.findIndex((r) => r.method === method);
      return i >= 0 ? this.caseInbox.splice(i, 1)[0] : undefined;
    }, o.answerMs, (req) => {
      if (!req) return this.stepEnd(step, o, undefined, `no ${method} from the server within ${Math.round(o.answerMs / 1000)} s`);
      m.received++;
      this.stepEnd(step, o, undefined, caseProblem(o, req, this, (n, v) => this.keep(n, v)));
    });
  }

  /** `final: METHOD`: the final answer to the case's last request of that method, which an earlier step left at a provisional. */
  protected override doAwait(step: AwaitStep): void {
    if (!step.case) return super.doAwait(step);
    const o = step.case;
    const method = o.final!;
    const sent = this.sentByMethod.get(method);
    if (!sent) return this.stepEnd(step, o, undefined, `no ${method} was sent before this step`);
    this.until(() => this.finals.get(method), o.answerMs, (final) => {
      if (!final) return this.stepEnd(step, o, undefined, `no final answer to the ${method} within ${Math.round(o.answerMs / 1000)} s`);
      this.rt.conformance.response(sent, final);
      this.stepEnd(step, o, final, judge(step.expect, final.status) ?? caseProblem(o, final, this, (n, v) => this.keep(n, v)));
    });
  }

  /** The step's message: torture bytes, the previous one again, or its template filled in with the next CSeq. */
  private nextMessage(o: CaseStepOptions, step: Send): CaseMessage {
    if (o.bytes !== undefined) return { data: this.wire.caseBytes(Buffer.from(o.bytes, 'latin1'), true) };
    if (o.resend) return this.caseLast ?? { data: Buffer.alloc(0) };
    this.caseSeq++;
    const data = this.fill(step.text);
    const msg = parsedOrNot(data);
    const cseq = msg ? cseqText(msg) : undefined;
    if (msg && cseq) {
      // What later steps refer to: this request's branch and CSeq number (a CANCEL needs both of its INVITE's).
      const m = msg.method.toLowerCase();
      this.keep(`${m}.cseq`, cseq.split(' ')[0]!);
      this.keep(`${m}.branch`, topBranch(msg));
      this.sentByMethod.set(msg.method, msg);
      this.finals.delete(msg.method);
    }
    return { data, msg, cseq };
  }

  private caseSend(step: Send): void {
    const o = step.case;
    const needsAnswer = !step.expect.drop && !step.expect.any;
    const waitMs = needsAnswer ? o.answerMs : o.silenceMs;
    if (o.resend && !this.caseLast) return this.stepEnd(step, o, undefined, 'nothing to resend: no earlier step of this case sent a request');
    let out = this.nextMessage(o, step);
    if (o.auth === 'replay') {
      // An earlier step that was never challenged (a server that asks no credentials) leaves nothing to replay.
      if (!this.lastAuth) return this.stepEnd(step, o, undefined, this.unchallenged ? undefined : 'nothing to replay: no earlier step of this case answered a challenge', this.unchallenged);
      out = withHeader(out.data, this.lastAuth.name, this.lastAuth.value);
    }
    const provisional = step.expect.codes.length > 0 && step.expect.codes.every(([, hi]) => hi < 200) && needsAnswer;
    this.holdAck = o.retransmitted !== undefined;
    this.exchange(step, out, waitMs, provisional, (final) => this.answered(step, out, final, waitMs, provisional));
  }

  /** The first answer to a send: a digest round when the step says how to answer a challenge, then the judgement. */
  private answered(step: Send, out: CaseMessage, final: SipMessage | undefined, waitMs: number, provisional: boolean): void {
    const o = step.case;
    if (final && out.msg && (final.status === 401 || final.status === 407) && o.auth && o.auth !== 'replay') {
      this.rt.conformance.response(out.msg, final);
      const header = final.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      const offered = final.getAll(header);
      const challenge = o.auth === 'MD5' || o.auth === 'SHA-256' ? pickAlgorithm(offered, o.auth) : pickChallenge(offered);
      if (!challenge) {
        if (o.auth === 'MD5' || o.auth === 'SHA-256') return this.stepEnd(step, o, final, undefined, `the server offers no ${o.auth} challenge`);
        return this.stepEnd(step, o, final, `the ${final.status} carries no digest challenge we can answer in ${header}`);
      }
      if (o.auth === 'unknown-nonce') challenge.nonce = `sipstorm-never-issued-${randomBytes(8).toString('hex')}`;
      const password = o.auth === 'wrong-password' ? `${this.lookup('password')}-wrong` : this.lookup('password')!;
      let again = this.nextMessage(o, step);
      if (!again.msg) return this.stepEnd(step, o, final, 'the step message does not parse');
      const name = final.status === 401 ? 'Authorization' : 'Proxy-Authorization';
      const value = buildAuthorization(challenge, { method: again.msg.method, uri: again.msg.uri, body: again.msg.body }, { username: this.lookup('user')!, password }, { nc: 0 });
      this.lastAuth = { name, value };
      again = withHeader(again.data, name, value);
      return this.exchange(step, again, waitMs, provisional, (f) => this.judgeCase(step, again, f));
    }
    if (final && final.status >= 200 && final.status < 300 && o.auth && o.auth !== 'replay' && o.auth !== 'answer') {
      // MD5, SHA-256, a wrong password, an unknown nonce: each needs a challenge to answer. A server that accepts the
      // request without one asks for no credentials; the case says nothing about its digest and does not apply.
      if (out.msg) this.rt.conformance.response(out.msg, final);
      return this.stepEnd(step, o, final, undefined, this.noCredentials(out, final));
    }
    this.judgeCase(step, out, final);
  }

  private noCredentials(out: CaseMessage, final: SipMessage): string {
    return `the server asked for no credentials (${out.msg?.method ?? 'the request'} answered ${final.status} ${final.reason} without a challenge)`;
  }

  /** The final answer (or silence) against the step's expectation, its `inapplicable` answers and header checks. */
  private judgeCase(step: Send, out: CaseMessage, final: SipMessage | undefined): void {
    const o = step.case;
    if (final && !this.lastAuth && o.auth === 'answer' && final.status >= 200 && final.status < 300) this.unchallenged = this.noCredentials(out, final);
    if (final && o.inapplicable && judge(o.inapplicable, final.status) === undefined) {
      return this.stepEnd(step, o, final, undefined, `${out.msg?.method ?? 'the request'} answered ${final.status} ${final.reason}`);
    }
    // Messages built from templates are well-formed: their answers go through the catalog like any other.
    if (final && out.msg) this.rt.conformance.response(out.msg, final);
    const problem = judge(step.expect, final?.status) ?? (final ? caseProblem(o, final, this, (n, v) => this.keep(n, v)) : undefined);
    if (!problem && final && o.retransmitted !== undefined) return this.awaitRetransmissions(step, final, o.retransmitted);
    this.stepEnd(step, o, final, problem);
  }

  /**
   * §17.2.1 (a non-2xx final answer to an INVITE, over UDP) and §13.3.1.4 (a 2xx): the server sends the final answer
   * again until the ACK comes. Waits, without acknowledging, until it has come `times` more times; then
   * acknowledges a non-2xx (a 2xx is acknowledged by a later step, as a new transaction).
   */
  private awaitRetransmissions(step: Send, final: SipMessage, times: number): void {
    const key = cseqText(final)!;
    const started = this.rt.wheel.now();
    this.until(() => ((this.finalCount.get(key) ?? 0) > times ? true : undefined), Math.max(step.case.answerMs, 4000), (seen) => {
      this.holdAck = false;
      this.ackNon2xx(final);
      const again = (this.finalCount.get(key) ?? 1) - 1;
      const secs = ((this.rt.wheel.now() - started) / 1000).toFixed(1);
      this.stepEnd(step, step.case, final, seen ? undefined : `the ${final.status} came ${again} more time${again === 1 ? '' : 's'} in ${secs} s without an ACK; ${times} retransmissions were due`);
    });
  }

  /**
   * Sends `out` stateless and waits for its final answer (or, `provisional`, its first answer above 100), matched by
   * Call-ID (any answer when it has none) and, when `out.cseq` is known, by CSeq number and method.
   */
  private exchange(step: Send, out: CaseMessage, waitMs: number, provisional: boolean, then: (final: SipMessage | undefined) => void): void {
    this.caseLast = out;
    const sent = out.msg ?? parsedOrNot(out.data);
    if (sent?.isRequest && sent.method === 'INVITE') this.invites.set(topBranch(sent), sent);
    const callId = findCallId(out.data.toString('latin1'));
    if (callId !== undefined) this.rt.registerCallId(callId, this);
    else this.wire.takeUnrouted(this);
    const m = this.metrics(step);
    m.sent++;
    this.outstanding = m;
    const sentAt = this.rt.wheel.now();
    const gen = this.gen;
    const done = (final: SipMessage | undefined): void => {
      this.caseTake = undefined;
      this.clearStepTimer();
      if (callId === undefined) this.wire.takeUnrouted(undefined);
      if (final) this.finalResponse(m, final.status, sentAt);
      else if (this.outstanding === m) {
        m.timeouts++;
        this.outstanding = undefined;
      }
      then(final);
    };
    this.caseTake = (res) => {
      if (out.cseq !== undefined && cseqText(res) !== out.cseq) return;
      if (res.status >= 200 || (provisional && res.status > 100)) done(res);
    };
    this.clearStepTimer();
    this.stepTimer = this.rt.wheel.schedule(waitMs, () => {
      this.stepTimer = undefined;
      if (gen === this.gen && !this.done) done(undefined);
    });
    this.record('sent', out.data);
    this.rt.sendStateless(out.data, this.socket.dest);
  }

  /** Re-checks `get` on each message of the case until it returns a value or `waitMs` ends. */
  private until<T>(get: () => T | undefined, waitMs: number, then: (v: T | undefined) => void): void {
    const now = get();
    if (now !== undefined) return then(now);
    const gen = this.gen;
    const over = (v: T | undefined): void => {
      this.caseWake = undefined;
      this.clearStepTimer();
      then(v);
    };
    this.caseWake = () => {
      const v = get();
      if (v !== undefined) over(v);
    };
    this.clearStepTimer();
    this.stepTimer = this.rt.wheel.schedule(waitMs, () => {
      this.stepTimer = undefined;
      if (gen === this.gen && !this.done) over(undefined);
    });
  }

  /** The step's outcome: its final kept as the case's last, then passed, failed (with where it is) or not applicable. */
  private stepEnd(step: RawStep | RecvStep | AwaitStep, o: CaseStepOptions, final: SipMessage | undefined, problem: string | undefined, notApplicable?: string): void {
    if (final) {
      this.verdict.status = final.status;
      this.verdict.reasonPhrase = final.reason;
    }
    if (problem !== undefined) {
      this.verdict.problem = o.where + problem;
      return this.stepFailed(step, problem, problem);
    }
    if (notApplicable !== undefined) {
      this.verdict.notApplicable = notApplicable;
      return this.notApplicable(notApplicable);
    }
    this.passed(this.metrics(step));
  }

  /** §17.1.1.3: a non-2xx final answer to an INVITE is acknowledged (each time it comes), or the server sends it for 32 s. */
  private ackNon2xx(final: SipMessage): void {
    const invite = this.invites.get(topBranch(final));
    if (invite && final.status >= 300) this.rt.sendStateless(serializeMessage(buildAckForNon2xx(invite, final)), this.socket.dest);
  }

  // ---- what arrives ----

  override onStrayResponse(res: SipMessage): void {
    if (this.done) return;
    if (res.status >= 200) {
      const c = cseqOf(res);
      const key = cseqText(res);
      if (key) this.finalCount.set(key, (this.finalCount.get(key) ?? 0) + 1);
      if (c && !this.finals.has(c.method)) this.finals.set(c.method, res);
      if (c?.method === 'INVITE' && res.status >= 300 && !this.holdAck) this.ackNon2xx(res);
    }
    this.record('received', res);
    this.caseTake?.(res);
    this.caseWake?.();
  }

  /** A datagram of the case that did not parse: in its ladder. */
  unparsable(data: Buffer): void {
    if (!this.done) this.record('received', data);
  }

  /** A request of the case (a NOTIFY, a MESSAGE relayed to a binding of ours): answered 200 at once, kept for its `receive` step. */
  override onRequest(req: SipMessage, tx: ServerTransaction | undefined): void {
    if (tx && req.method !== 'ACK') tx.respond(createResponse(req, 200, 'OK', `t${randomBytes(4).toString('hex')}`));
    if (this.done) return;
    this.record('received', req);
    this.rt.conformance.request(req);
    this.caseInbox.push(req);
    this.caseWake?.();
  }
}
