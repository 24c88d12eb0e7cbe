// The UAS side of an instance (RFC 3261 §8.2): requests routed to it by the
// runtime, waited for by recv steps (kept in an inbox when they come early),
// checked against the step's expectation and the dialog's CSeq order
// (§12.2.2), answered with the step's replies (the 2xx to INVITE with its
// Contact and Record-Route, retransmitted until the ACK, §13.3.1.4, by
// engine/transaction/retransmit-2xx.ts), or
// answered 200 at once when no step ahead waits for them (SIPp's -aa).

import { createResponse, type SipMessage } from '../codec/index.js';
import type { RecvStep, ResponseStep } from '../scenario/index.js';
import { renderTemplate } from '../scenario/template.js';
import { Retransmit2xx, type ServerTransaction } from '../transaction/index.js';
import { guessContentType, sdp } from './bodies.js';
import { uasDialog } from './dialog.js';
import { applyCaptures, checkContent } from './expect.js';
import { InviteClient } from './uac-invite.js';

/**
 * Requests answered 200 at once when no step ahead waits for them (SIPp's -aa): in-dialog NOTIFY (a
 * subscription refresh), INFO, UPDATE, and OPTIONS (a keep-alive ping) in or out of a dialog.
 */
const AUTO_ANSWERED = new Set(['NOTIFY', 'INFO', 'UPDATE', 'OPTIONS']);

export abstract class UasSide extends InviteClient {
  /** Requests that came before a step waited for them; made at the first. */
  protected inbox: { req: SipMessage; tx: ServerTransaction | undefined }[] | undefined;
  protected waitingRecv: RecvStep | undefined;
  protected retrans2xx: Retransmit2xx | undefined;

  protected doRecv(step: RecvStep): void {
    const i = this.inbox?.findIndex((e) => e.req.method === step.method) ?? -1;
    if (i >= 0) {
      const [e] = this.inbox!.splice(i, 1);
      return this.handleRecv(step, e!.req, e!.tx);
    }
    this.waitingRecv = step;
    // The peer-ready rule: a UA called by another role is ready at its first wait for a request.
    this.rt.instanceWaiting(this, this.role);
    this.armStepTimeout(step, () => {
      this.waitingRecv = undefined;
      this.recvTimedOut(step, `no ${step.method} received within ${step.timeoutMs / 1000}s`);
    });
  }

  /** A receive step's wait ran out: on if it is optional, else a timeout failure (message-steps.ts adds `onTimeout`). */
  protected recvTimedOut(step: RecvStep | ResponseStep, what: string): void {
    if (step.optional) return this.next();
    this.timedOut(step, what);
  }

  /** A request for this instance, from the runtime's routing. */
  onRequest(req: SipMessage, tx: ServerTransaction | undefined): void {
    this.record('received', req);
    this.rt.conformance.request(req);
    if (this.done) return;
    if (req.method === 'BYE') this.stopMedia();
    if (req.method === 'ACK') {
      this.retrans2xx?.stop();
      this.retrans2xx = undefined;
    }
    const w = this.waitingRecv;
    if (w && w.method === req.method) {
      this.waitingRecv = undefined;
      this.clearStepTimer();
      return this.handleRecv(w, req, tx);
    }
    if (req.method === 'ACK') return; // an ACK nobody waits for ends the 2xx retransmission, that is all
    if (tx && this.autoAnswers(req)) return this.autoAnswer(req, tx);
    (this.inbox ??= []).push({ req, tx });
  }

  /** Whether `req` gets an automatic 200: its kind is answered so, and no recv step from here on waits for its method. */
  private autoAnswers(req: SipMessage): boolean {
    if (!this.rt.scenario.autoAnswer || !AUTO_ANSWERED.has(req.method)) return false;
    if (req.method !== 'OPTIONS' && req.to().tag === undefined) return false;
    return !this.role.role.recvAhead?.[this.pc]?.includes(req.method);
  }

  /** 200 at once, so the server stops retransmitting; counted as an unexpected request. */
  private autoAnswer(req: SipMessage, tx: ServerTransaction): void {
    this.rt.unexpectedRequests++;
    if (this.dialog && req.to().tag === this.dialog.localTag) this.dialog.remoteSeq = Math.max(this.dialog.remoteSeq, req.cseq().seq);
    this.record('sent', tx.respond(createResponse(req, 200, undefined, req.to().tag ?? this.localTag)));
  }

  private handleRecv(step: RecvStep, req: SipMessage, tx: ServerTransaction | undefined): void {
    // A role with media answers an INVITE's offer from a stream of its own: opened first (its ports), then here again.
    if (this.openMediaForOffer(step, req, () => this.handleRecv(step, req, tx))) return;
    const m = this.metrics(step);
    m.received++;
    if (req.method === 'INVITE' || req.method === 'MESSAGE') this.rt.registerCallId(req.callId(), this);
    if (this.dialog && req.to().tag === this.dialog.localTag) {
      // §12.2.2: requests within the dialog must have a higher CSeq than the last.
      const seq = req.cseq().seq;
      if (seq <= this.dialog.remoteSeq && req.method !== 'ACK') {
        if (tx) this.answer(tx, req, 500, step);
        return this.stepFailed(
          step,
          'lower CSeq within the dialog',
          `${req.method} with CSeq ${seq} not above ${this.dialog.remoteSeq} in the dialog (RFC 3261 §12.2.2)`,
          `${req.method} with a CSeq not above the last in the dialog (RFC 3261 §12.2.2)`,
        );
      }
      this.dialog.remoteSeq = seq;
    }
    if (!this.dialog && req.method === 'NOTIFY') {
      // A NOTIFY may arrive before the 200 to SUBSCRIBE (RFC 6665 §4.1.2.4): it makes the dialog.
      this.dialog = { ...uasDialog(req, this.localTag), localSeq: this.uaState().cseq };
    }
    const problem = checkContent(step.expect, req, this.rt.regexCache, this) ?? (step.capture.length ? applyCaptures(step.capture, req, (this.vars ??= new Map()), this.rt.regexCache) : undefined);
    const answerSdp = this.mediaAnswerTo(step, req);
    if (answerSdp && 'error' in answerSdp) {
      if (tx) this.answer(tx, req, 488, step);
      return this.mediaRefused(step, answerSdp.error);
    }
    this.answerBody = answerSdp?.sdp;
    if (tx) for (const code of step.reply) this.answer(tx, req, code, step);
    this.answerBody = undefined;
    if (problem) return this.stepFailed(step, problem.kind, `${req.method} ${problem.text}`, `${req.method} ${problem.kind}`);
    this.passed(m);
  }

  private answer(tx: ServerTransaction, req: SipMessage, code: number, step: RecvStep): void {
    const toTag = req.to().tag ?? this.localTag;
    const res = createResponse(req, code, undefined, code > 100 ? toTag : undefined);
    const rt = this.rt;
    if ((req.method === 'INVITE' || req.method === 'SUBSCRIBE') && code > 100 && code < 300) {
      // RFC 3261 §12.1.1: a dialog-creating response copies the Record-Route of the request.
      for (const rr of req.getAll('Record-Route')) res.add('Record-Route', rr);
    }
    if (req.method === 'INVITE' && code > 100 && code < 300) {
      // The Contact names the transport it is reached over (RFC 3261 §8.1.1.8, §19.1.1), or a proxy would use UDP.
      res.add('Contact', `<${rt.contactUri(this.me.user, this.socket.local)}>`);
      if (!this.dialog) this.dialog = { ...uasDialog(req, toTag), localSeq: this.uaState().cseq };
    }
    for (const [name, t] of step.replyHeaders) res.add(name, renderTemplate(t, this));
    if (code >= 200) {
      const body = this.render(step.replyBody) ?? (req.method === 'INVITE' && code < 300 ? (this.answerBody ?? sdp(rt.localHostText)) : undefined);
      if (body !== undefined) {
        res.body = Buffer.from(body, 'utf8');
        res.set('Content-Type', step.replyContentType ?? guessContentType(body));
      }
    }
    this.record('sent', tx.respond(res));
    if (req.method === 'INVITE' && code >= 200 && code < 300 && rt.local.protocol === 'udp') {
      // §13.3.1.4: retransmit the 2xx until the ACK.
      this.retrans2xx?.stop();
      this.retrans2xx = new Retransmit2xx(rt.wheel, rt.layer.timers, rt.layer.counters, tx, res, true);
    }
  }
}
