// The built-in user agent server: users that answer calls themselves, so that
// SIPp's built-in UAC (`sipp -sn uac`, which calls sip:service@host) and
// sipstorm's own scenarios have a callee with no setup.
//   service, echo: 100 Trying, 180 Ringing, 200 OK with an SDP answer.
//   ringing:       100 Trying, 180 Ringing, then nothing until CANCEL (487).

import { newTag, type SipMessage } from '../codec/index.js';
import { retransmit2xx, type Retransmission, type ServerTransaction } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import type { ServerCore } from './core.js';

export const BUILTIN_USERS = new Set(['service', 'echo', 'ringing']);

interface Call {
  toTag: string;
  invite: ServerTransaction;
  retrans?: Retransmission;
  answered: boolean;
  /** The caller's last CSeq number in the dialog (RFC 3261 §12.2.2). */
  remoteCseq: number;
  expiry: { cancel(): void };
}

const CALL_LIFETIME_MS = 3_600_000; // a call never hung up is forgotten after an hour

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

  constructor(private readonly core: ServerCore) {}

  get activeCalls(): number {
    return this.calls.size;
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
      this.answer200(tx, existing, source);
      return;
    }
    // RFC 3261 §8.2.2.2: the same From tag, Call-ID and CSeq as an ongoing INVITE, but another transaction (a copy that
    // forked and came back by another path): "the UAS core SHOULD generate a 482 (Loop Detected) response".
    if (existing && !existing.answered && existing.invite !== tx && isMerged(existing.invite.request, req)) {
      core.answer(tx, 482);
      return;
    }
    // RFC 4475 §3.3.15: an Accept without application/sdp cannot be answered with our SDP.
    const accept = req.getAll('Accept');
    if (accept.length > 0 && !accept.some((a) => /^(application\/sdp|application\/\*|\*\/\*)/i.test(a))) {
      core.answer(tx, 406, { headers: [['Accept', 'application/sdp']] });
      return;
    }
    const call: Call = { toTag: newTag(), invite: tx, answered: false, remoteCseq: req.cseq().seq, expiry: core.wheel.schedule(CALL_LIFETIME_MS, () => this.forget(callId)) };
    existing?.expiry.cancel();
    this.calls.set(callId, call);
    if (!core.faults.no100) core.answer(tx, 100);
    core.answer(tx, 180, { toTag: call.toTag, headers: [['Contact', `<sip:${user}@${core.hostPort(source.protocol)}>`]] });
    if (user === 'ringing') return; // rings until CANCEL
    core.stats.callsAnswered++;
    this.answer200(tx, call, source, user);
  }

  private answer200(tx: ServerTransaction, call: Call, source: Endpoint, user = 'service'): void {
    const core = this.core;
    const res = core.answer(tx, 200, {
      toTag: call.toTag,
      headers: [['Contact', `<sip:${user}@${core.hostPort(source.protocol)}>`], ['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK']],
      body: sdpAnswer(core.local(source.protocol).host),
      contentType: 'application/sdp',
    });
    call.answered = true;
    call.invite = tx;
    call.retrans?.stop();
    if (source.protocol === 'udp') {
      // RFC 3261 §13.3.1.4: the UAS core retransmits the 2xx until the ACK arrives.
      call.retrans = retransmit2xx({
        wheel: core.wheel,
        timers: core.layer.timers,
        counters: core.layer.counters,
        resend: () => tx.respond(res),
        onGiveUp: () => (call.retrans = undefined),
      });
    }
  }

  /** ACK for a 2xx (no transaction): stop retransmitting. */
  handleAck(callId: string): boolean {
    const call = this.calls.get(callId);
    if (!call) return false;
    call.retrans?.stop();
    call.retrans = undefined;
    return true;
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

  private forget(callId: string): void {
    const call = this.calls.get(callId);
    if (!call) return;
    call.retrans?.stop();
    call.expiry.cancel();
    this.calls.delete(callId);
  }
}
