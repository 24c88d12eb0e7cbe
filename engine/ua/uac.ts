// The UAC side of an instance (RFC 3261 §8.1): building requests from the
// step's templates, sending them through a client transaction, answering a
// digest challenge once more with credentials (RFC 3261 §22.2, §22.3), the
// session request delay of INVITEs (RFC 6076 §4.3), judging the final
// response against the step's expectation, and raw steps (bytes sent as
// written, answered by a response that matches no transaction).

import { buildAuthorization, pickChallenge, type ClientAuthState } from '../auth/index.js';
import { createRequest, findCallId, SipParseError, type SipMessage } from '../codec/index.js';
import type { RawStep, SendStep } from '../scenario/index.js';
import { renderTemplate } from '../scenario/index.js';
import type { ClientTransaction } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import { guessContentType } from './bodies.js';
import { inDialogRequest, uacDialog } from './dialog.js';
import { applyCaptures, checkContent, codeMatches } from './expect.js';
import { dialogHop } from './next-hop.js';
import { MediaSide } from './call-media.js';

const IN_DIALOG_METHODS = new Set(['BYE', 'INFO', 'UPDATE', 'ACK', 'PRACK', 'NOTIFY', 'REFER']);
const NO_CONTACT = new Set(['MESSAGE', 'PUBLISH', 'BYE', 'CANCEL', 'ACK', 'SERVICE', 'INFO', 'PRACK']);
/** Headers a step's `headers` replace rather than add to. */
const SET_HEADERS = ['contact', 'to', 'from', 'expires', 'max-forwards', 'call-id', 'm', 'event', 'o'];

/** An INVITE sent with `async`: the await step judges its final, a CANCEL step cancels it. */
export interface PendingInvite {
  request: SipMessage;
  tx: ClientTransaction;
  provisional: boolean;
  final?: SipMessage;
  firstSentAt: number;
  /** Resumes a CANCEL waiting for a provisional, or an await step waiting for the final. */
  waiter?: () => void;
}

/** The last INVITE of the call, its final response, and the ACK of its 2xx once sent. */
export interface LastInvite {
  request: SipMessage;
  response?: SipMessage;
  ackData?: Buffer;
  ackDest?: Endpoint;
}

export abstract class UacSide extends MediaSide {
  protected lastInvite: LastInvite | undefined;
  /** INVITEs sent with `async`, by their id; made at the first one. */
  protected pending: Map<string, PendingInvite> | undefined;
  /** Digest state (nonce count), made at the first challenge answered. */
  private auth: ClientAuthState | undefined;
  private rawWait: { step: RawStep; sentAt: number } | undefined;
  /** The last request sent, to check a response that matched no transaction (a mangled Via). */
  protected lastSent: SipMessage | undefined;

  // The INVITE parts (uac-invite.ts).
  protected abstract onInviteResponse(req: SipMessage, res: SipMessage, step: SendStep, tx: ClientTransaction): void;
  protected abstract sendAckStep(step: SendStep): void;
  protected abstract sendCancelStep(step: SendStep): void;

  protected inDialog(step: SendStep): boolean {
    if (step.dialog !== undefined) return step.dialog && this.dialog !== undefined;
    return this.dialog !== undefined && IN_DIALOG_METHODS.has(step.method);
  }

  protected buildRequest(step: SendStep): SipMessage {
    const rt = this.rt;
    const state = rt.uaState(this.me.user);
    const via = rt.via(this.socket.local);
    const contact = NO_CONTACT.has(step.method) ? undefined : `<${rt.contactUri(this.me.user, this.socket.local)}>`;
    let req: SipMessage;
    if (this.inDialog(step)) {
      req = inDialogRequest(this.dialog!, step.method, via, contact);
      state.cseq = Math.max(state.cseq, this.dialog!.localSeq);
    } else {
      const aor = this.lookup('aor')!;
      const defaultUri = step.method === 'REGISTER' ? `sip:${this.lookup('domain')}` : step.method === 'OPTIONS' ? rt.targetUri : aor;
      const to = this.render(step.to) ?? this.render(step.uri) ?? (step.method === 'REGISTER' ? aor : defaultUri);
      const uri = this.render(step.uri) ?? (step.to ? to.replace(/^.*<([^>]*)>.*$/, '$1') : defaultUri);
      req = createRequest({
        method: step.method,
        uri,
        from: `<${aor}>;tag=${this.localTag}`,
        to: to.includes('<') ? to : `<${to}>`,
        callId: this.callId,
        cseq: ++state.cseq,
        via,
        contact,
      });
      if (step.method === 'REGISTER' && !step.headers.some(([n]) => n.toLowerCase() === 'expires')) req.add('Expires', '3600');
    }
    for (const [name, t] of step.headers) {
      const value = renderTemplate(t, this);
      if (SET_HEADERS.includes(name.toLowerCase())) req.set(name, value);
      else req.add(name, value);
    }
    const body = this.render(step.body) ?? this.mediaOffer(step);
    if (body !== undefined) {
      req.body = Buffer.from(body, 'utf8');
      req.set('Content-Type', step.contentType ?? guessContentType(body));
    }
    req.add('User-Agent', 'sipstorm');
    return req;
  }

  /**
   * Where the requests of the dialog go (RFC 3261 §12.2.1.1): its first route, or its remote target; --target
   * when sipstorm cannot reach that hop itself (see next-hop.ts).
   */
  protected dialogDest(): Endpoint {
    const hop = this.dialog ? dialogHop(this.dialog, this.socket.dest.protocol) : undefined;
    if (!hop) return this.socket.dest;
    const dest = this.socket.dest;
    if (hop.host === dest.host && hop.port === dest.port) return dest;
    return dest.localPort === undefined ? hop : { ...hop, localPort: dest.localPort };
  }

  protected doSend(step: SendStep): void {
    const m = this.metrics(step);
    if (step.method === 'ACK') return this.sendAckStep(step);
    if (step.method === 'CANCEL') return this.sendCancelStep(step);
    if (this.openMediaFirst(step, () => this.doSend(step))) return;
    if (step.method === 'BYE') this.stopMedia();
    const dest = this.inDialog(step) ? this.dialogDest() : this.socket.dest;
    const req = this.buildRequest(step);
    const firstSentAt = this.rt.wheel.now();
    m.sent++;
    if (!step.async) this.outstanding = m;
    let challenged = 0;
    const invite = step.method === 'INVITE';
    if (invite) m.inviteSent();
    let requestDelayDone = false;
    const gen = this.gen;
    this.armStepTimeout(step, () => this.timedOut(step, `no final response within ${step.timeoutMs / 1000}s`));
    const sendIt = (r: SipMessage) => {
      this.lastSent = r;
      let answered = false;
      const tx = this.rt.send(r, dest, {
        onResponse: (res) => {
          this.rt.conformance.response(r, res);
          if (!answered && r.method === 'INVITE' && tx.retransmissions === 0) this.rt.conformance.firstInviteResponse(res, this.rt.wheel.now() - tx.sentAt);
          answered = true;
          if (this.done) {
            // RFC 6026: a 2xx retransmitted after the call ended still gets its ACK again (uac-invite.ts).
            if (invite) this.reAckAfterEnd(res);
            return;
          }
          this.record('received', res);
          if (invite && !requestDelayDone && res.status >= 180) {
            // RFC 6076 §4.3: the session request delay runs from the INVITE to the first 18x (the post-dial
            // delay) or, without one, to the final response; a challenge answered with credentials or a
            // redirect does not end the attempt.
            const ms = this.rt.wheel.now() - firstSentAt;
            if (res.status < 190) {
              requestDelayDone = true;
              m.ringing(ms);
            } else if (res.status >= 200 && (res.status < 300 || res.status >= 400) && !((res.status === 401 || res.status === 407) && step.auth)) {
              requestDelayDone = true;
              m.finalWithoutRinging(ms);
            }
          }
          // Its answer came through the transaction: no stray answer needs the request any more.
          if (res.status >= 200 && this.lastSent === r) this.lastSent = undefined;
          if (invite) this.onInviteResponse(r, res, step, tx);
          if (gen !== this.gen && !step.async) return;
          if (res.status < 200) {
            m.code(res.status);
            return;
          }
          if (step.async) return; // the await step judges the final
          if ((res.status === 401 || res.status === 407) && step.auth && challenged < 2 && !codeMatches(step.expect.codes, res.status)) {
            const retry = this.authRetry(r, res, step);
            if (retry) {
              challenged++;
              m.challenges++;
              m.code(res.status);
              sendIt(retry);
              return;
            }
          }
          this.finalResponse(m, res.status, firstSentAt);
          this.judgeFinal(step, r, res);
        },
        onTimeout: () => {
          if (this.done || gen !== this.gen || step.async) return;
          this.timedOut(step, 'no final response (transaction timeout)');
        },
        // The connection it went on is gone (§17.1.4): the step fails now, counted as an error (finish()), with why.
        onTransportError: (code, detail) => {
          if (this.done || (gen !== this.gen && !step.async)) return;
          this.fail(`step ${this.stepLabel(step)}: ${detail} (${code})`);
        },
      });
      this.record('sent', tx.data);
      if (step.async && step.asyncId) {
        const p = this.pending?.get(step.asyncId);
        if (p) {
          p.request = r;
          p.tx = tx;
        } else (this.pending ??= new Map()).set(step.asyncId, { request: r, tx, provisional: false, firstSentAt });
      }
      return tx;
    };
    sendIt(req);
    if (step.async) {
      // The INVITE goes on in the background: the next step runs now.
      this.next();
    }
  }

  /** After the end: the ACK of a retransmitted 2xx sent again (uac-invite.ts keeps it). */
  protected abstract reAckAfterEnd(res: SipMessage): void;

  /** RFC 3261 §22.2 (401) and §22.3 (407): the request again, a new CSeq, with credentials for the challenge. */
  private authRetry(req: SipMessage, res: SipMessage, step: SendStep): SipMessage | undefined {
    const proxy = res.status === 407;
    const ch = pickChallenge(res.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate'));
    if (!ch) return undefined;
    const retry = this.buildRequest(step);
    retry.set('Call-ID', req.callId());
    if (this.inDialog(step)) retry.set('CSeq', `${++this.dialog!.localSeq} ${step.method}`);
    retry.set(proxy ? 'Proxy-Authorization' : 'Authorization', buildAuthorization(ch, { method: retry.method, uri: retry.uri, body: retry.body }, { username: this.me.user, password: this.me.password }, (this.auth ??= { nc: 0 })));
    return retry;
  }

  /** The step's final response against its expectation: `on` branches, content checks, captures. */
  protected judgeFinal(step: SendStep, req: SipMessage, res: SipMessage): void {
    const m = this.metrics(step);
    // Dialogs: a 2xx to SUBSCRIBE creates one (RFC 6665 §4.1.2.1); INVITE's is made in onInviteResponse.
    if (res.status < 300 && step.method === 'SUBSCRIBE' && !this.dialog) {
      try {
        this.dialog = uacDialog(req, res);
      } catch (err) {
        if (!(err instanceof SipParseError)) throw err;
        const what = `${res.status} to SUBSCRIBE unusable:`;
        return this.stepFailed(step, `${what} ${err.code}`, `${what} ${err.message}`, `${what} ${err.code}`);
      }
    }
    const branch = step.on.find((o) => codeMatches(o.codes, res.status));
    if (!codeMatches(step.expect.codes, res.status)) {
      if (branch) return this.passedTo(m, branch.target);
      if (step.optional) return this.next();
      return this.failGot(step, res);
    }
    const content = checkContent(step.expect, res, this.rt.regexCache, this) ?? (step.capture.length ? applyCaptures(step.capture, res, (this.vars ??= new Map()), this.rt.regexCache) : undefined);
    if (content) {
      if (step.optional) return this.next();
      return this.stepFailed(step, content.kind, `${res.status} ${content.text}`, `${res.status} ${content.kind}`);
    }
    if (branch) return this.passedTo(m, branch.target);
    this.passed(m);
  }

  // ---- raw ----

  protected doRaw(step: RawStep): void {
    const m = this.metrics(step);
    let text = renderTemplate(step.text, this);
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
        m.timeouts++;
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
