// The built-in user agent server: users that answer calls themselves, so that
// SIPp's built-in UAC (`sipp -sn uac`, which calls sip:service@host) and
// sipstorm's own scenarios have a callee with no setup.
//   service, echo: 100 Trying, 180 Ringing, 200 OK with an SDP answer; an
//                  offer is answered (RFC 3264) with the server's RTP echo
//                  (rtp-echo.ts), an offer with no codec of ours with 488.
//   ringing:       100 Trying, 180 Ringing, then nothing until CANCEL (487),
//                  or 408 when it has rung for CallLimits.ringingMs.
// A call lives until BYE, CANCEL, or one of the limits of call-limits.ts.

import { newTag, type SipMessage } from '../codec/index.js';
import type { TimerHandle } from '../timer/index.js';
import { Retransmit2xx, type ServerTransaction } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import { ackWaitMs, DEFAULT_CALL_LIMITS, type CallLimits } from './call-limits.js';
import type { ServerCore } from './core.js';

export const BUILTIN_USERS = new Set(['service', 'echo', 'ringing']);

interface Call {
  toTag: string;
  /** The INVITE transaction while the call rings (CANCEL, merged requests); let go once answered. */
  invite: ServerTransaction | undefined;
  retrans?: Retransmit2xx;
  answered: boolean;
  /** A 2xx was sent and its ACK has not come yet. */
  awaitingAck: boolean;
  /** The caller's last CSeq number in the dialog (RFC 3261 §12.2.2). */
  remoteCseq: number;
  /** The one limit running: ring-out, the wait for ACK, or the lifetime of an established call. */
  expiry: TimerHandle;
}

function sdpAnswer(host: string): string {
  const ip = host.includes(':') ? `IP6 ${host}` : `IP4 ${host}`;
  return `v=0\r\no=sipstorm 1 1 IN ${ip}\r\ns=sipstorm\r\nc=IN ${ip}\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
}

function isMerged(a: SipMessage, b: SipMessage): boolean {
  const ca = a.cseq();
  const cb = b.cseq();
  return a.from().tag === b.from().tag && ca.seq === cb.seq && ca.method === cb.method;
}

export class BuiltinUas {
  private readonly calls = new Map<string, Call>();

  constructor(
    private readonly core: ServerCore,
    private readonly limits: CallLimits = DEFAULT_CALL_LIMITS,
  ) {}

  get activeCalls(): number {
    return this.calls.size;
  }

  /** No room for another call: a new INVITE is to be refused (503) before it makes a transaction. */
  get full(): boolean {
    return this.calls.size >= this.limits.maxCalls;
  }

  hasCall(callId: string): boolean {
    return this.calls.has(callId);
  }

  handleInvite(tx: ServerTransaction, user: string, source: Endpoint): void {
    const core = this.core;
    const req = tx.request;
    const callId = req.callId();
    const toTag = req.to().tag;
    const existing = this.calls.get(callId);
    if (toTag) {
      // A re-INVITE within the dialog (RFC 3261 §14.2).
      if (!existing || existing.toTag !== toTag) {
        core.answer(tx, 481);
        return;
      }
      if (!this.inOrder(tx, existing)) return;
      if (this.refusedOffer(tx)) return;
      this.answer200(tx, existing, source);
      return;
    }
    // RFC 3261 §8.2.2.2: the same From tag, Call-ID and CSeq as an ongoing INVITE, but another transaction (a copy that
    // forked and came back by another path): "the UAS core SHOULD generate a 482 (Loop Detected) response".
    if (existing?.invite && !existing.answered && existing.invite !== tx && isMerged(existing.invite.request, req)) {
      core.answer(tx, 482);
      return;
    }
    // RFC 4475 §3.3.15: an Accept without application/sdp cannot be answered with our SDP.
    const accept = req.getAll('Accept');
    if (accept.length > 0 && !accept.some((a) => /^(application\/sdp|application\/\*|\*\/\*)/i.test(a))) {
      core.answer(tx, 406, { headers: [['Accept', 'application/sdp']] });
      return;
    }
    if (this.refusedOffer(tx)) return;
    if (existing) this.forget(callId); // a new call on an old Call-ID replaces the old one
    const call: Call = {
      toTag: newTag(), invite: tx, answered: false, awaitingAck: false, remoteCseq: req.cseq().seq,
      expiry: core.wheel.schedule(this.limits.ringingMs, () => this.ringOut(callId, call)),
    };
    this.calls.set(callId, call);
    if (!core.faults.no100) core.answer(tx, 100);
    core.answer(tx, 180, { toTag: call.toTag, headers: [['Contact', `<sip:${user}@${core.hostPort(source.protocol)}>`]] });
    if (user === 'ringing') return; // rings until CANCEL, or until it rings out
    core.stats.callsAnswered++;
    this.answer200(tx, call, source, user);
  }

  /** An SDP offer the RTP echo cannot answer (no codec of ours): 488 with a Warning saying why (RFC 3261 §21.4.26, §20.43). */
  private refusedOffer(tx: ServerTransaction): boolean {
    const why = this.core.media?.answer(tx.request).error;
    if (why === undefined) return false;
    this.core.answer(tx, 488, { headers: [['Warning', `305 sipstorm "${why.replace(/["\\]/g, '')}"`]] });
    return true;
  }

  private answer200(tx: ServerTransaction, call: Call, source: Endpoint, user = 'service'): void {
    const core = this.core;
    const res = core.answer(tx, 200, {
      toTag: call.toTag,
      headers: [['Contact', `<sip:${user}@${core.hostPort(source.protocol)}>`], ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK']],
      body: core.media?.answer(tx.request).sdp ?? sdpAnswer(core.local(source.protocol).host),
      contentType: 'application/sdp',
    });
    call.answered = true;
    call.invite = undefined;
    call.retrans?.stop();
    call.retrans = undefined;
    // RFC 3261 §13.3.1.4: a 2xx never ACKed within 64*T1 ends the call (see ackWaitMs), over any transport.
    call.awaitingAck = true;
    call.expiry.cancel();
    const callId = tx.request.callId();
    call.expiry = core.wheel.schedule(ackWaitMs(core.layer.timers.T1), () => this.noAck(callId, call));
    if (source.protocol === 'udp') {
      // RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK arrives (or the call's limit above ends it).
      call.retrans = new Retransmit2xx(core.wheel, core.layer.timers, core.layer.counters, tx, res, false);
    }
  }

  /** ACK for a 2xx (no transaction): stop retransmitting; the call is established. */
  handleAck(callId: string): boolean {
    const call = this.calls.get(callId);
    if (!call) return false;
    call.retrans?.stop();
    call.retrans = undefined;
    if (call.awaitingAck) {
      call.awaitingAck = false;
      call.expiry.cancel();
      call.expiry = this.core.wheel.schedule(this.limits.establishedMs, () => this.forget(callId, call));
    }
    return true;
  }

  /** A call that rang for ringingMs with no CANCEL: 408 for its INVITE (the transaction then waits for the ACK). */
  private ringOut(callId: string, call: Call): void {
    if (this.calls.get(callId) !== call) return;
    if (!call.answered && call.invite) this.core.answer(call.invite, 408, { toTag: call.toTag, reason: 'Request Timeout (no answer)' });
    this.core.stats.callsTimedOut++;
    this.forget(callId, call);
  }

  /** §13.3.1.4: 64*T1 without the ACK for our 2xx. */
  private noAck(callId: string, call: Call): void {
    if (this.calls.get(callId) !== call) return;
    this.core.layer.counters.timeouts++;
    this.core.stats.callsTimedOut++;
    this.forget(callId, call);
  }

  /**
   * CANCEL of a ringing call: 200 for the CANCEL (sent by the caller of this), 487 for the INVITE. `invite` is the
   * transaction the CANCEL matched (§9.2, by branch): one of ours that already has its final answer is left alone.
   */
  handleCancel(invite: ServerTransaction): boolean {
    const callId = invite.request.callId();
    const call = this.calls.get(callId);
    if (!call) return false;
    if (!call.answered && call.invite === invite) {
      this.core.answer(call.invite, 487, { toTag: call.toTag });
      this.forget(callId);
    }
    return true;
  }


  /** In-dialog requests other than INVITE and ACK. */
  handleInDialog(tx: ServerTransaction): boolean {
    const req = tx.request;
    const call = this.calls.get(req.callId());
    if (!call || req.to().tag !== call.toTag) return false;
    if (!this.inOrder(tx, call)) return true;
    this.core.answer(tx, 200, { toTag: call.toTag });
    if (req.method === 'BYE') this.forget(req.callId());
    return true;
  }

  /**
   * RFC 3261 §12.2.2: "If the remote sequence number was not empty, but the sequence number of the request is lower
   * than the remote sequence number, the request is out of order and MUST be rejected with a 500".
   */
  private inOrder(tx: ServerTransaction, call: Call): boolean {
    const seq = tx.request.cseq().seq;
    if (seq < call.remoteCseq) {
      this.core.answer(tx, 500, { toTag: call.toTag });
      return false;
    }
    call.remoteCseq = seq;
    return true;
  }

  private forget(callId: string, only?: Call): void {
    const call = this.calls.get(callId);
    if (!call || (only && call !== only)) return;
    call.retrans?.stop();
    call.expiry.cancel();
    this.calls.delete(callId);
  }
}
