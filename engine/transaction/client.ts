// Client transactions (RFC 3261 §17.1): INVITE (§17.1.1, with RFC 6026's
// Accepted state) and non-INVITE (§17.1.2). One class, one switch per event;
// the request is serialized once and retransmissions resend the same Buffer.

import { serializeMessage, SipMessage } from '../codec/index.js';
import type { TimerHandle, TimerTarget } from '../timer/index.js';
import type { Endpoint } from '../transport/index.js';
import type { ClientTransactionContext } from './context.js';

export interface ClientTransactionUser {
  onResponse(res: SipMessage): void;
  /** Timer B or F fired: no final response. */
  onTimeout(): void;
  /** The transport failed the request (§17.1.4): the connection it went on is gone. Without it, onTimeout. */
  onTransportError?(code: string, detail: string): void;
}

const NO_DATA = Buffer.alloc(0);
/** Who a completed transaction reports to: nobody (retransmitted finals are absorbed there, §17.1.1.2, §17.1.2.2). */
const NO_USER: ClientTransactionUser = { onResponse: () => undefined, onTimeout: () => undefined };

/** The transaction's timers, taken by kind (TimerWheel.scheduleFor): no closure per timer. */
const RETRANSMIT = 0; // Timer A / E
const TIMEOUT = 1; // Timer B / F, then M (RFC 6026)
const LINGER = 2; // Timer D, or M once accepted

type State = 'calling' | 'trying' | 'proceeding' | 'accepted' | 'completed' | 'terminated';

export class ClientTransaction implements TimerTarget {
  readonly isInvite: boolean;
  state: State;
  /** The request as sent; let go of (empty) once a final response arrives, since no retransmission follows. */
  data: Buffer;
  /** Monotonic time the request was first sent. */
  readonly sentAt: number;
  /** Times the request was sent again (Timer A / E). */
  retransmissions = 0;
  private retransmit: TimerHandle | undefined;
  private timeout: TimerHandle | undefined;
  private interval: number;
  private ack: Buffer | undefined;
  /** Needed until the final response (to build the ACK of a non-2xx to an INVITE). */
  private request: SipMessage | undefined;
  private readonly method: string;

  constructor(
    private readonly ctx: ClientTransactionContext,
    /** Its top Via branch; with `matchMethod`, what the layer matches responses by (§17.1.3). */
    readonly key: string,
    request: SipMessage,
    readonly dest: Endpoint,
    private user: ClientTransactionUser,
    /** The CSeq method of its responses (INVITE for an ACK's). */
    readonly matchMethod: string = request.method === 'ACK' ? 'INVITE' : request.method,
  ) {
    this.request = request;
    this.method = request.method;
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'calling' : 'trying';
    // A request a send template wrote is sent as written (codec/sent-request.ts); any other is serialized.
    this.data = request.wire ?? serializeMessage(request);
    this.interval = ctx.timers.T1;
    this.sentAt = ctx.wheel.now();
    ctx.send(this.data, dest);
    // §17.1.1.2 / §17.1.2.2: Timer A / E only on unreliable transports.
    if (!ctx.reliable(dest)) this.retransmit = ctx.wheel.scheduleFor(this.interval, this, RETRANSMIT);
    // Timer B / F: 64*T1 on every transport.
    this.timeout = ctx.wheel.scheduleFor(64 * ctx.timers.T1, this, TIMEOUT);
  }

  onTimer(kind: number): void {
    if (kind === RETRANSMIT) this.onRetransmitTimer();
    else if (kind === TIMEOUT) this.onTimeoutTimer();
    else {
      this.timeout = undefined;
      if (this.state === 'completed' || this.state === 'accepted') this.terminate();
    }
  }

  private onRetransmitTimer(): void {
    this.retransmit = undefined;
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    // §17.1.1.2: an INVITE client transaction in Proceeding stops retransmitting.
    if (this.isInvite && this.state === 'proceeding') return;
    this.ctx.send(this.data, this.dest);
    this.ctx.counters.retransmissionsSent++;
    this.ctx.counters.requestRetransmissions[this.method] = (this.ctx.counters.requestRetransmissions[this.method] ?? 0) + 1;
    this.retransmissions++;
    // Timer A doubles without bound; Timer E doubles up to T2, and is T2 in Proceeding (§17.1.2.2).
    this.interval = this.isInvite ? this.interval * 2 : this.state === 'proceeding' ? this.ctx.timers.T2 : Math.min(this.interval * 2, this.ctx.timers.T2);
    this.retransmit = this.ctx.wheel.scheduleFor(this.interval, this, RETRANSMIT);
  }

  private onTimeoutTimer(): void {
    this.timeout = undefined;
    switch (this.state) {
      case 'calling':
      case 'trying':
      case 'proceeding':
        // §17.1.1.2 Timer B / §17.1.2.2 Timer F: inform the TU of the timeout.
        this.ctx.counters.timeouts++;
        this.terminate();
        this.user.onTimeout();
        return;
      case 'accepted':
        // RFC 6026 §8.4: Timer M fired, the transaction ends.
        this.terminate();
        return;
      default:
        return;
    }
  }

  receiveResponse(res: SipMessage): void {
    const status = res.status;
    switch (this.state) {
      case 'calling':
      case 'trying':
      case 'proceeding':
        if (status < 200) {
          this.state = 'proceeding';
          if (this.isInvite) this.cancelRetransmit();
          this.user.onResponse(res);
          return;
        }
        this.cancelRetransmit();
        if (this.isInvite && status < 300) {
          // RFC 6026 §8.4: "the client transaction MUST transition to the Accepted state" and
          // pass retransmitted 2xx to the TU so that it re-sends its ACK.
          this.state = 'accepted';
          this.restartTimeout(64 * this.ctx.timers.T1);
          this.user.onResponse(res);
          return;
        }
        if (this.isInvite) {
          // §17.1.1.2: a 300-699 response is ACKed by the transaction and passed up; Timer D.
          this.ack = serializeMessage(buildAckForNon2xx(this.request!, res));
          this.ctx.send(this.ack, this.dest);
        }
        this.state = 'completed';
        this.user.onResponse(res);
        // Completed passes nothing up any more: let the request and the TU's callbacks (and what they hold) go now,
        // young, rather than after Timer D or K, when the heap has long since promoted them.
        this.user = NO_USER;
        this.request = undefined;
        // Timer D (32 s, INVITE) or K (T4, non-INVITE) on unreliable transports, zero on reliable.
        if (this.ctx.reliable(this.dest)) this.terminate();
        else if (this.isInvite) this.restartTimeout(Math.max(32_000, 64 * this.ctx.timers.T1));
        else {
          // Timer K has nothing to send: the layer keeps the key alone, not this object and two timers.
          this.terminate();
          this.ctx.linger(this.key, this.matchMethod);
        }
        return;
      case 'accepted':
        if (status >= 200 && status < 300) {
          this.ctx.counters.retransmissionsReceived++;
          this.user.onResponse(res);
        }
        return;
      case 'completed':
        // §17.1.1.2: any retransmission of the final response is answered with the ACK again.
        this.ctx.counters.retransmissionsReceived++;
        if (this.ack) this.ctx.send(this.ack, this.dest);
        return;
      case 'terminated':
        return;
    }
  }

  /**
   * RFC 6026 §8.4: in Accepted a retransmitted 2xx goes to the TU, which sends its ACK again (§13.2.2.4). A TU done
   * with the call hands that ACK over instead: the layer keeps the branch and the ACK until Timer M and sends it
   * for each 2xx itself, and this transaction, its request and its user (a whole call) go now, not 64*T1 later.
   */
  handOverAck(ack: Buffer, dest: Endpoint): void {
    if (this.state !== 'accepted') return;
    this.terminate();
    this.ctx.lingerAccepted(this.key, ack, dest);
  }

  private restartTimeout(ms: number): void {
    this.timeout?.cancel();
    this.timeout = this.ctx.wheel.scheduleFor(ms, this, LINGER);
  }

  private cancelRetransmit(): void {
    this.retransmit?.cancel();
    this.retransmit = undefined;
    // Only retransmissions need the bytes; a transaction that waits out Timer M or K should cost little.
    this.data = NO_DATA;
  }

  /**
   * RFC 3261 §17.1.4: "the client transaction SHOULD inform the TU that a transport failure has occurred, and
   * the client transaction SHOULD transition directly to the Terminated state". True when it was still waiting
   * for its final response (a transaction past that has nothing to fail).
   */
  transportFailed(code: string, detail: string): boolean {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return false;
    const user = this.user;
    this.terminate();
    if (user.onTransportError) user.onTransportError(code, detail);
    else user.onTimeout();
    return true;
  }

  /** Ends the transaction now (e.g. the run is stopping). */
  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.cancelRetransmit();
    this.timeout?.cancel();
    this.timeout = undefined;
    this.ctx.remove(this.key, this.matchMethod);
  }
}

/**
 * RFC 3261 §17.1.1.3: the ACK for a non-2xx final response has the Request-URI,
 * Call-ID, From, CSeq number and top Via of the INVITE, the To of the response,
 * the INVITE's Route headers, and method ACK.
 */
export function buildAckForNon2xx(invite: SipMessage, res: SipMessage): SipMessage {
  const ack = SipMessage.request('ACK', invite.uri);
  const via = invite.getAll('Via')[0];
  if (via) ack.headers.push({ name: 'Via', value: via });
  ack.headers.push({ name: 'Max-Forwards', value: '70' });
  for (const name of ['From', 'Call-ID'] as const) {
    const v = invite.get(name);
    if (v !== undefined) ack.headers.push({ name, value: v });
  }
  const to = res.get('To');
  if (to !== undefined) ack.headers.push({ name: 'To', value: to });
  ack.headers.push({ name: 'CSeq', value: `${invite.cseq().seq} ACK` });
  for (const h of invite.headers) if (h.name === 'Route') ack.headers.push({ name: 'Route', value: h.value });
  return ack;
}
