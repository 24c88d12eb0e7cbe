// The UAC side of an instance (RFC 3261 §8.1): building requests from the
// step's templates, sending them through a client transaction, answering a
// digest challenge once more with credentials (RFC 3261 §22.2, §22.3) or the
// next round of an NTLM/Kerberos login (ms-login.ts), the
// session request delay of INVITEs (RFC 6076 §4.3), judging the final
// response against the step's expectation. Raw steps are uac-raw.ts.

import { buildAuthorization, pickChallenge, type ClientAuthState } from '../auth/index.js';
import { SipParseError, type SipMessage } from '../codec/index.js';
import type { SendStep } from '../scenario/index.js';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/index.js';
import type { StepMetrics } from '../metrics/index.js';
import type { TimerTarget } from '../timer/index.js';
import type { Endpoint } from '../transport/index.js';
import { dialogRequestParts, uacDialog } from './dialog.js';
import { buildRequestMessage, NO_CONTACT, writeRequest, type RequestParts } from './send-template.js';
import { applyCaptures, checkContent, codeMatches } from './expect.js';
import { dialogHop } from './next-hop.js';
import { sipaeClientOf, signatureRefused, signRequest } from './ms-login.js';
import { MediaSide } from './call-media.js';
import { countCode } from './step-outcome.js';

const IN_DIALOG_METHODS = new Set(['BYE', 'INFO', 'UPDATE', 'ACK', 'PRACK', 'NOTIFY', 'REFER']);
const NO_ROUTES: string[] = [];

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
  tx: ClientTransaction;
  response?: SipMessage;
  ackData?: Buffer;
  ackDest?: Endpoint;
}

/**
 * One request a send step sent, and its digest retry: what its client transaction reports to and what its step
 * timer fires on, one object with methods on its prototype instead of a closure per callback.
 */
export class OutgoingRequest implements ClientTransactionUser, TimerTarget {
  request!: SipMessage;
  tx!: ClientTransaction;
  /** The transaction of `request` passed up a response (the first one's timing is a conformance check). */
  answered = false;
  challenged = 0;
  requestDelayDone = false;

  constructor(
    readonly ua: UacSide,
    readonly step: SendStep,
    readonly m: StepMetrics,
    readonly firstSentAt: number,
    /** The instance's step generation when sent: callbacks of an earlier step are ignored. */
    readonly gen: number,
    readonly dest: Endpoint,
  ) {}

  onResponse(res: SipMessage): void {
    this.ua.requestAnswered(this, res);
  }

  onTimeout(): void {
    this.ua.requestTimedOut(this);
  }

  onTransportError(code: string, detail: string): void {
    this.ua.requestFailed(this, code, detail);
  }

  /** Its only timer: the step's timeout. */
  onTimer(): void {
    this.ua.sendStepTimedOut(this);
  }
}

export abstract class UacSide extends MediaSide {
  protected lastInvite: LastInvite | undefined;
  /** INVITEs sent with `async`, by their id; made at the first one. */
  protected pending: Map<string, PendingInvite> | undefined;
  /** Digest state (nonce count), made at the first challenge answered. */
  private auth: ClientAuthState | undefined;
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

  /**
   * What this request is, besides the step's own headers and body (§8.1.1, or §12.2.1.1 within the dialog); it takes
   * the CSeq, so each request sent asks once.
   */
  private requestParts(step: SendStep): RequestParts {
    const rt = this.rt;
    const state = this.uaState();
    const via = rt.via(this.socket.local);
    const contact = NO_CONTACT.has(step.method) ? undefined : `<${rt.contactUri(this.me.user, this.socket.local)}>`;
    if (this.inDialog(step)) {
      const p = dialogRequestParts(this.dialog!, step.method);
      state.cseq = Math.max(state.cseq, this.dialog!.localSeq);
      return { uri: p.uri, from: p.from, to: p.to, callId: p.callId, cseq: p.cseq, via, contact, routes: p.routes };
    }
    const aor = this.lookup('aor')!;
    const defaultUri = step.method === 'REGISTER' ? `sip:${this.lookup('domain')}` : step.method === 'OPTIONS' ? rt.targetUri : aor;
    const to = this.render(step.to) ?? this.render(step.uri) ?? (step.method === 'REGISTER' ? aor : defaultUri);
    // A To without '<' is its own URI: no regular expression for the usual `to: sip:...`.
    const uri = this.render(step.uri) ?? (step.to ? (to.includes('<') ? to.replace(/^.*<([^>]*)>.*$/, '$1') : to) : defaultUri);
    return { uri, from: `<${aor}>;tag=${this.localTag}`, to: to.includes('<') ? to : `<${to}>`, callId: this.callId, cseq: ++state.cseq, via, contact, routes: NO_ROUTES };
  }

  /**
   * The step's request, written to bytes by its template (send-template.ts); an INVITE carrying the role's media
   * offer (an SDP made per call) is built as an object instead.
   */
  protected buildRequest(step: SendStep): SipMessage {
    if (this.offersMedia(step)) return this.buildRequestObject(step);
    return writeRequest(step, this.inDialog(step), this.requestParts(step), this);
  }

  /** The step's request as a message object, to be changed (the digest retry); the same bytes as buildRequest's. */
  protected buildRequestObject(step: SendStep): SipMessage {
    const req = buildRequestMessage(step, this.inDialog(step), this.requestParts(step), this);
    const offer = this.mediaOffer(step);
    if (offer !== undefined) {
      req.body = Buffer.from(offer, 'utf8');
      req.set('Content-Type', step.contentType ?? 'application/sdp');
    }
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
    signRequest(this.uaState(), req);
    const out = new OutgoingRequest(this, step, m, this.rt.wheel.now(), this.gen, dest);
    m.sent++;
    if (!step.async) this.outstanding = m;
    if (step.method === 'INVITE') m.inviteSent();
    this.clearStepTimer();
    this.stepTimer = this.rt.wheel.scheduleFor(step.timeoutMs, out, 0);
    this.transmit(out, req);
    if (step.async) {
      // The INVITE goes on in the background: the next step runs now.
      this.next();
    }
  }

  /** Sends the step's request (first, or again with credentials) in a new client transaction. */
  private transmit(out: OutgoingRequest, r: SipMessage): void {
    const step = out.step;
    this.lastSent = r;
    out.request = r;
    out.answered = false;
    const tx = (out.tx = this.rt.send(r, out.dest, out));
    this.record('sent', tx.data);
    if (step.async && step.asyncId) {
      const p = this.pending?.get(step.asyncId);
      if (p) {
        p.request = r;
        p.tx = tx;
      } else (this.pending ??= new Map()).set(step.asyncId, { request: r, tx, provisional: false, firstSentAt: out.firstSentAt });
    }
  }

  /** A response to a send step's request, through its transaction (OutgoingRequest.onResponse). */
  requestAnswered(out: OutgoingRequest, res: SipMessage): void {
    const { step, m, request: r, tx } = out;
    const invite = step.method === 'INVITE';
    this.rt.conformance.response(r, res);
    if (!out.answered && invite && tx.retransmissions === 0) this.rt.conformance.firstInviteResponse(res, this.rt.wheel.now() - tx.sentAt);
    out.answered = true;
    // A 2xx retransmitted after the call ended gets its ACK again from the transaction layer (uac-invite.ts, handOverAck).
    if (this.done) return;
    this.record('received', res);
    if (invite && !out.requestDelayDone && res.status >= 180) {
      // RFC 6076 §4.3: the session request delay runs from the INVITE to the first 18x (the post-dial
      // delay) or, without one, to the final response; a challenge answered with credentials or a
      // redirect does not end the attempt.
      const ms = this.rt.wheel.now() - out.firstSentAt;
      if (res.status < 190) {
        out.requestDelayDone = true;
        m.ringing(ms);
      } else if (res.status >= 200 && (res.status < 300 || res.status >= 400) && !((res.status === 401 || res.status === 407) && step.auth)) {
        out.requestDelayDone = true;
        m.finalWithoutRinging(ms);
      }
    }
    // Its answer came through the transaction: no stray answer needs the request any more.
    if (res.status >= 200 && this.lastSent === r) this.lastSent = undefined;
    if (invite) this.onInviteResponse(r, res, step, tx);
    if (out.gen !== this.gen && !step.async) return;
    if (res.status < 200) {
      countCode(m, res.status);
      return;
    }
    if (step.async) return; // the await step judges the final
    if ((res.status === 401 || res.status === 407) && step.auth && out.challenged < 2 && !codeMatches(step.expect.codes, res.status)) {
      let retry;
      try {
        retry = this.authRetry(r, res, step);
      } catch (err) {
        return this.loginFailed(step, err);
      }
      if (retry) {
        out.challenged++;
        m.challenges++;
        countCode(m, res.status);
        if (retry instanceof Promise) {
          // Kerberos: the tickets come from the KDC first; the login time includes that round.
          const gen = out.gen;
          retry.then((again) => { if (!this.done && gen === this.gen) this.transmit(out, again); }, (err) => { if (!this.done && gen === this.gen) this.loginFailed(step, err); });
        } else this.transmit(out, retry);
        return;
      }
    }
    const refused = signatureRefused(this.uaState(), res);
    if (refused) {
      this.finalResponse(m, res.status, out.firstSentAt);
      this.fail(`step ${this.stepLabel(step)}: ${refused} (SIPAE_BAD_SIGNATURE)`);
      return;
    }
    this.finalResponse(m, res.status, out.firstSentAt);
    this.judgeFinal(step, r, res);
  }

  /** Timer B or F fired on a send step's request (OutgoingRequest.onTimeout). */
  requestTimedOut(out: OutgoingRequest): void {
    if (this.done || out.gen !== this.gen || out.step.async) return;
    this.timedOut(out.step, 'no final response (transaction timeout)');
  }

  /** The connection it went on is gone (§17.1.4): the step fails now, counted as an error (finish()), with why. */
  requestFailed(out: OutgoingRequest, code: string, detail: string): void {
    if (this.done || (out.gen !== this.gen && !out.step.async)) return;
    this.fail(`step ${this.stepLabel(out.step)}: ${detail} (${code})`);
  }

  /** The send step's own timer ran out (armStepTimeout's rule, without its closure). */
  sendStepTimedOut(out: OutgoingRequest): void {
    this.stepTimer = undefined;
    if (out.gen !== this.gen || this.done) return;
    this.timedOut(out.step, `no final response within ${out.step.timeoutMs / 1000}s`);
  }

  /**
   * RFC 3261 §22.2 (401) and §22.3 (407): the request again, a new CSeq, with credentials for the challenge:
   * digest, or with `auth.scheme` ntlm/kerberos the next round of an [MS-SIPAE] login (a promise while
   * Kerberos tickets come from the KDC).
   */
  private authRetry(req: SipMessage, res: SipMessage, step: SendStep): SipMessage | Promise<SipMessage> | undefined {
    const proxy = res.status === 407;
    const values = res.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const header = proxy ? 'Proxy-Authorization' : 'Authorization';
    const retryOf = (): SipMessage => {
      const retry = this.buildRequestObject(step);
      retry.set('Call-ID', req.callId());
      if (this.inDialog(step)) retry.set('CSeq', `${++this.dialog!.localSeq} ${step.method}`);
      return retry;
    };
    const sipae = sipaeClientOf(this.uaState(), this.role.role.auth, this.me);
    if (sipae) {
      if (!sipae.offered(values)) return undefined;
      this.uaState().sipaeProxy = proxy;
      const answer = sipae.answer(values);
      const withAnswer = (value: string): SipMessage => {
        const retry = retryOf();
        retry.set(header, value);
        return retry;
      };
      return typeof answer === 'string' ? withAnswer(answer) : answer.then(withAnswer);
    }
    const ch = pickChallenge(values);
    if (!ch) return undefined;
    const retry = retryOf();
    retry.set(header, buildAuthorization(ch, { method: retry.method, uri: retry.uri, body: retry.body }, { username: this.me.user, password: this.me.password }, (this.auth ??= { nc: 0 })));
    return retry;
  }

  /** A login that cannot go on (a KDC that does not answer, a wrong password, a malformed challenge): the step fails with why. */
  private loginFailed(step: SendStep, err: unknown): void {
    const e = err as { code?: string; message?: string };
    if (!e?.code) throw err;
    this.fail(`step ${this.stepLabel(step)}: ${e.message} (${e.code})`);
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
}
