// Plays conformance suites against a server over UDP, TCP or TLS (the target's
// transport), one case at a time: sends the case's message, waits for the
// final answer (or its absence), judges it against the case's expectation
// (engine/ua/expect.ts, the one expectation of scenarios and suites), and then
// asks the server an OPTIONS to tell a server that chose silence from one that
// crashed (RFC 4475 §1: "a compliant element ... remains stable"). After a
// crash the remaining cases are not run, and say so.
//
// Torture messages go out byte for byte but for their top Via and, with
// --domain, their Request-URI and To hosts (rewrite.ts); templated requests
// are filled in with the case's variables (the scenario's template syntax).
// Over TCP and TLS each case (and the OPTIONS after it) has a connection of
// its own; cases that test what only a datagram has are not applicable
// (SuiteCase.datagramOnly). The wire side is link.ts.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { findCallId, parseMessage, type SipMessage } from '../codec/index.js';
import { buildAuthorization, pickChallenge } from '../auth/index.js';
import { judge } from '../ua/expect.js';
import { inspect } from './case-checks.js';
import { SuiteLink, type CaseResult, type Flow, type Outgoing, type SuiteRunnerOptions } from './link.js';
import type { SuiteCase, SuiteStep } from './load.js';
import { cseqText, pickAlgorithm, topBranch, withHeader } from './message-parts.js';
import { rewriteDomain, rewriteTopVia } from './rewrite.js';

export type { CaseResult, LadderEntry, SuiteRunnerOptions } from './link.js';

interface StepOutcome {
  final?: SipMessage;
  problem?: string;
  notApplicable?: string;
}

export class SuiteRunner extends SuiteLink {
  static async open(opts: SuiteRunnerOptions): Promise<SuiteRunner> {
    const r = new SuiteRunner(opts);
    await r.openSocket();
    return r;
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
    const provisional = step.expect.codes.length > 0 && step.expect.codes.every(([, hi]) => hi < 200) && !step.expect.drop && !step.expect.any;
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
    let problem = judge(step.expect, final?.status) ?? (final ? inspect(step, final, flow.vars) : undefined);
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


  /** Waits for the final answer to the case's last request of the step's method, which an earlier step left at a provisional. */
  private async finalStep(flow: Flow, step: SuiteStep): Promise<StepOutcome> {
    const method = step.final!;
    const sent = flow.sent.get(method);
    if (!sent) return { problem: `no ${method} was sent before this step` };
    const final = await this.until(flow, () => flow.finals.get(method));
    if (!final) return { problem: `no final answer to the ${method} within ${Math.round((this.opts.answerMs ?? 4000) / 1000)} s` };
    this.checker.response(sent, final);
    return { final, problem: judge(step.expect, final.status) ?? inspect(step, final, flow.vars) };
  }

  /** Polls `get` each time the server sends the case something, until it returns a value or the answer wait ends. */

  /** Waits for a request the server must send in this case (answered 200 on arrival) and checks it. */
  private async receiveStep(flow: Flow, step: SuiteStep): Promise<StepOutcome> {
    const method = step.receive!.toUpperCase();
    const req = await this.until(flow, () => {
      const i = flow.inbox.findIndex((m) => m.method === method);
      return i >= 0 ? flow.inbox.splice(i, 1)[0] : undefined;
    });
    if (!req) return { problem: `no ${method} from the server within ${Math.round((this.opts.answerMs ?? 4000) / 1000)} s` };
    return { problem: inspect(step, req, flow.vars) };
  }

  /** The step's header requirements on an answer or a received request, then its captures. */
}
