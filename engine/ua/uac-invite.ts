// The INVITE client of an instance (RFC 3261 §13.2): the dialog its 2xx
// makes, the ACK of a 2xx (§13.2.2.4) sent again for a retransmitted 2xx
// (RFC 6026), ACK and CANCEL steps (§9.1), and INVITEs sent with `async`
// whose final response an await step judges.

import { createRequest, serializeMessage, SipParseError, type SipMessage } from '../codec/index.js';
import type { AwaitStep, SendStep } from '../scenario/index.js';
import type { ClientTransaction } from '../transaction/index.js';
import { dialogRequestParts, inDialogRequest, uacDialog } from './dialog.js';
import { writeAck } from './send-template.js';
import { checkContent, codeMatches } from './expect.js';
import { countFinalCode } from './step-outcome.js';
import type { LastInvite } from './uac.js';
import { RawClient } from './uac-raw.js';

export abstract class InviteClient extends RawClient {
  /**
   * An INVITE whose 2xx was ACKed and that the call is done with (it ended, or a re-INVITE took its place): its
   * transaction sends that ACK for any 2xx retransmitted until Timer M (RFC 6026) without this instance.
   */
  protected handOverAck(li: LastInvite | undefined): void {
    if (li?.ackData) li.tx.handOverAck(li.ackData, li.ackDest ?? this.socket.dest);
  }

  /** Every response to an INVITE of ours: dialogs, ACK of 2xx, async bookkeeping. */
  protected onInviteResponse(req: SipMessage, res: SipMessage, step: SendStep, tx: ClientTransaction): void {
    const p = step.asyncId ? this.pending?.get(step.asyncId) : undefined;
    if (p && p.tx === tx) {
      if (res.status < 200) p.provisional = true;
      else if (!p.final) {
        p.final = res;
        countFinalCode(this.metrics(step), res.status);
      }
      const w = p.waiter;
      if (w) {
        p.waiter = undefined;
        w();
      }
    }
    if (res.status < 200 || res.status >= 300) {
      if (res.status >= 300) this.lastInvite = { request: req, tx, response: res };
      return;
    }
    // 2xx (first or retransmitted, RFC 6026): dialog, then ACK now unless the next step sends it.
    try {
      if (!this.dialog || this.dialog.remoteTag !== res.to().tag) {
        this.dialog = uacDialog(req, res);
        this.lastInvite = { request: req, tx, response: res };
      } else if (this.lastInvite?.request.cseq().seq !== req.cseq().seq) {
        // A re-INVITE's 2xx (§14.1): its own ACK, with its CSeq.
        if (this.lastInvite?.tx !== tx) this.handOverAck(this.lastInvite);
        this.lastInvite = { request: req, tx, response: res };
      }
    } catch (err) {
      return this.failUnusable2xx(step, res, err, p !== undefined && p.tx === tx);
    }
    const li = this.lastInvite!;
    if (li.ackData) {
      this.rt.sendStateless(li.ackData, li.ackDest ?? this.socket.dest);
      return;
    }
    const unusable = this.mediaAnswer(req, res);
    const steps = this.role.role.steps;
    let nextSend;
    for (let i = this.pc + 1; i < steps.length && !nextSend; i++) {
      const s = steps[i]!;
      if (s.kind === 'send' || s.kind === 'recv' || s.kind === 'raw' || s.kind === 'await') nextSend = s;
    }
    const ackIsNext = !step.async && nextSend?.kind === 'send' && nextSend.method === 'ACK';
    if (!ackIsNext || unusable) this.sendAck();
    if (unusable) this.mediaSetupFailed(step, unusable);
  }

  /**
   * A 2xx whose To or Contact does not parse makes no dialog (§12.1.2 takes the remote target from
   * Contact, the remote tag from To) and cannot be ACKed: the step fails at once with the parse
   * error, instead of waiting for a final response it already had.
   */
  private failUnusable2xx(step: SendStep, res: SipMessage, err: unknown, async: boolean): void {
    if (!(err instanceof SipParseError)) throw err;
    const m = this.metrics(step);
    if (!async) {
      // The final came (a 2xx): counted as such; the async INVITE's was counted on arrival.
      countFinalCode(m, res.status);
      this.outstanding = undefined;
    }
    const what = `${res.status} to ${step.method} unusable:`;
    this.stepFailed(step, `${what} ${err.code}`, `${what} ${err.message}`, `${what} ${err.code}`);
  }

  /** §13.2.2.4: ACK for a 2xx, a new transaction-less request within the dialog. */
  private sendAck(): boolean {
    const li = this.lastInvite;
    if (!li || !this.dialog) return false;
    const via = this.rt.via(this.socket.local);
    const seq = li.request.cseq().seq;
    if (li.request.has('Authorization') || li.request.has('Proxy-Authorization')) {
      // The INVITE carried credentials: the ACK repeats them (built header by header, the rare case).
      const ack = inDialogRequest(this.dialog, 'ACK', via, undefined, seq);
      for (const name of ['Authorization', 'Proxy-Authorization']) {
        const v = li.request.get(name);
        if (v) ack.add(name, v);
      }
      li.ackData = serializeMessage(ack);
    } else {
      const p = dialogRequestParts(this.dialog, 'ACK', seq);
      li.ackData = writeAck({ uri: p.uri, from: p.from, to: p.to, callId: p.callId, cseq: p.cseq, via, contact: undefined, routes: p.routes });
    }
    li.ackDest = this.dialogDest();
    this.rt.sendStateless(li.ackData, li.ackDest);
    this.record('sent', li.ackData);
    return true;
  }

  protected sendAckStep(step: SendStep): void {
    // An ACK gets no response (RFC 3261 §17.1.1.3, §13.2.2.4), so it is not a request "sent"
    // in the balance sent = finals + timeouts + errors: it is counted in acks; the step counts it as passed.
    const m = this.metrics(step);
    const li = this.lastInvite;
    if (li?.response && li.response.status < 300 && !li.ackData && this.sendAck()) m.acks++;
    // An ACK for a non-2xx was sent by the INVITE transaction itself (§17.1.1.3).
    this.passed(m);
  }

  protected sendCancelStep(step: SendStep): void {
    const m = this.metrics(step);
    const p = this.pending ? [...this.pending.values()].pop() : undefined;
    if (!p) return this.fail(`step ${this.stepLabel(step)}: no pending INVITE to cancel`);
    // §9.1: a CANCEL SHOULD NOT be sent before a provisional response arrived.
    if (!p.provisional && !p.final) {
      const gen = this.gen;
      p.waiter = () => {
        if (gen === this.gen && !this.done) this.sendCancelStep(step);
      };
      this.armStepTimeout(step, () => {
        // Nothing was sent (sent = finals + timeouts + errors): the step fails without a timeout of a request.
        this.stepFailed(step, 'no provisional response to the INVITE, so no CANCEL could be sent', 'no provisional response to the INVITE, so no CANCEL could be sent');
      });
      return;
    }
    const inv = p.request;
    const cancel = createRequest({
      method: 'CANCEL', uri: inv.uri, from: inv.get('From')!, to: inv.get('To')!, callId: inv.callId(),
      cseq: inv.cseq().seq, via: inv.getAll('Via')[0]!,
    });
    for (const r of inv.getAll('Route')) cancel.add('Route', r);
    m.sent++;
    this.outstanding = m;
    const sentAt = this.rt.wheel.now();
    const gen = this.gen;
    this.armStepTimeout(step, () => this.timedOut(step, `no response to CANCEL within ${step.timeoutMs / 1000}s`));
    // §9.1: the CANCEL goes where the INVITE went.
    const tx = this.rt.send(cancel, p.tx.dest, {
      onResponse: (res) => {
        this.record('received', res);
        this.rt.conformance.response(cancel, res);
        if (this.done || gen !== this.gen || res.status < 200) return;
        this.finalResponse(m, res.status, sentAt);
        this.judgeFinal(step, cancel, res);
      },
      onTimeout: () => {
        if (this.done || gen !== this.gen) return;
        this.timedOut(step, 'no response to CANCEL (transaction timeout)');
      },
      onTransportError: (code, detail) => {
        if (this.done || gen !== this.gen) return;
        this.fail(`step ${this.stepLabel(step)}: ${detail} (${code})`);
      },
    });
    this.record('sent', tx.data);
  }

  /** An await step: the final response to an INVITE sent with `async`, judged like a send step's. */
  protected doAwait(step: AwaitStep): void {
    const m = this.metrics(step);
    const p = this.pending?.get(step.asyncId);
    if (!p) return this.fail(`step ${this.stepLabel(step)}: the INVITE '${step.asyncId}' was never sent`);
    const judge = () => {
      const res = p.final!;
      this.pending?.delete(step.asyncId);
      m.sent++;
      this.finalResponse(m, res.status, p.firstSentAt);
      if (!codeMatches(step.expect.codes, res.status)) return this.failGot(step, res);
      const content = checkContent(step.expect, res, this.rt.regexCache, this);
      if (content) return this.stepFailed(step, content.kind, content.text, content.kind);
      this.passed(m);
    };
    if (p.final) return judge();
    const gen = this.gen;
    const wait = () => {
      if (gen !== this.gen || this.done) return;
      if (p.final) judge();
      else p.waiter = wait;
    };
    p.waiter = wait;
    this.armStepTimeout(step, () => {
      // The await step counts as sent only what it judged; the INVITE still in flight is counted on
      // its own step (an error, when the instance ends before its final response).
      this.stepFailed(step, `no final response to '${step.asyncId}'`, `no final response to '${step.asyncId}' within ${step.timeoutMs / 1000}s`);
    });
  }
}
