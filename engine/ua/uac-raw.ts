// The raw steps of the UAC side: bytes sent as written, statelessly (no
// transaction), the step waiting for the response that then matches no
// transaction (a stray, by Call-ID), judged by its status. Stray responses
// come here first: a retransmitted 2xx of our INVITE is ACKed again
// (RFC 3261 §13.2.2.4). message-steps.ts adds SIPp's raw-text variables.

import { findCallId, type SipMessage } from '../codec/index.js';
import type { RawStep } from '../scenario/index.js';
import { renderTemplate, type Template } from '../scenario/template.js';
import { codeMatches } from './expect.js';
import { countTimeout } from './step-outcome.js';
import { UacSide } from './uac.js';

export abstract class RawClient extends UacSide {
  private rawWait: { step: RawStep; sentAt: number } | undefined;

  /** Raw text rendered for sending (message-steps.ts adds the variables of SIPp's keywords). */
  protected renderRaw(t: Template): string {
    return renderTemplate(t, this);
  }

  protected doRaw(step: RawStep): void {
    const m = this.metrics(step);
    let text = this.renderRaw(step.text);
    if (!text.endsWith('\r\n\r\n') && !/\r\n\r\n[\s\S]+$/.test(text)) text = text.replace(/(\r\n)*$/, '\r\n\r\n');
    const data = Buffer.from(text, 'utf8');
    const callId = findCallId(text);
    if (callId) this.rt.registerCallId(callId, this);
    m.sent++;
    this.outstanding = m;
    this.rawWait = { step, sentAt: this.rt.wheel.now() };
    this.rt.sendStateless(data, this.socket.dest);
    this.record('sent', data);
    this.armStepTimeout(step, () => {
      this.rawWait = undefined;
      if (step.optional) {
        countTimeout(m);
        this.outstanding = undefined;
        return this.next();
      }
      this.timedOut(step, `no response within ${step.timeoutMs / 1000}s`);
    });
  }

  /** A response matching no transaction: for raw steps, the answer; for INVITEs, a retransmitted 2xx. */
  onStrayResponse(res: SipMessage): void {
    this.record('received', res);
    const sent = this.lastSent;
    if (sent && res.cseq().seq === sent.cseq().seq && res.cseq().method === sent.method) this.rt.conformance.response(sent, res);
    if (this.done) return;
    if (res.cseq().method === 'INVITE' && res.status >= 200 && res.status < 300 && this.lastInvite?.ackData) {
      this.rt.sendStateless(this.lastInvite.ackData, this.lastInvite.ackDest ?? this.socket.dest);
      return;
    }
    const w = this.rawWait;
    if (!w || res.status < 200) return;
    this.rawWait = undefined;
    const m = this.metrics(w.step);
    this.finalResponse(m, res.status, w.sentAt);
    if (!codeMatches(w.step.expect.codes, res.status)) {
      if (w.step.optional) return this.next();
      return this.failGot(w.step, res);
    }
    this.passed(m);
  }
}
