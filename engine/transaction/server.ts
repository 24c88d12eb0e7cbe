// Server transactions (RFC 3261 §17.2): INVITE (§17.2.1, with RFC 6026's
// Accepted state) and non-INVITE (§17.2.2). They absorb retransmitted requests
// by re-sending the last response, retransmit non-2xx finals to INVITE until
// the ACK comes (Timer G/H), and keep the last response for Timer J/I.

import { createResponse, serializeMessage, type SipMessage } from '../codec/index.js';
import type { TimerHandle, TimerTarget } from '../timer/index.js';
import type { Endpoint } from '../transport/index.js';
import type { TransactionContext } from './context.js';

/** The transaction's timers, taken by kind (TimerWheel.scheduleFor): no closure per timer. */
const TRYING_100 = 0; // §17.2.1: the 100 after 200 ms
const TIMER_G = 1;
const TIMER_H = 2;
const END = 3; // Timer L, J or I: the transaction ends

type State = 'trying' | 'proceeding' | 'accepted' | 'completed' | 'confirmed' | 'terminated';

export class ServerTransaction implements TimerTarget {
  readonly isInvite: boolean;
  state: State;
  /** The last response sent, serialized once. */
  private last: Buffer | undefined;
  lastStatus = 0;
  private retransmit: TimerHandle | undefined;
  private timer: TimerHandle | undefined;
  private interval: number;
  /** Called when Timer H fires: a non-2xx final response to INVITE was never ACKed. */
  onNoAck: (() => void) | undefined;

  constructor(
    private readonly ctx: TransactionContext,
    readonly key: string,
    readonly request: SipMessage,
    /** Where responses go (RFC 3261 §18.2.2 / RFC 3581). */
    readonly responseDest: Endpoint,
  ) {
    this.isInvite = request.method === 'INVITE';
    this.state = this.isInvite ? 'proceeding' : 'trying';
    this.interval = ctx.timers.T1;
    if (this.isInvite) {
      // §17.2.1: "the server transaction MUST generate a 100 (Trying) response unless it
      // knows that the TU will generate a provisional or final response within 200 ms".
      this.timer = ctx.wheel.scheduleFor(200, this, TRYING_100);
    }
  }

  onTimer(kind: number): void {
    switch (kind) {
      case TRYING_100:
        this.timer = undefined;
        if (this.lastStatus === 0 && this.state === 'proceeding') this.respond(createResponse(this.request, 100));
        return;
      case TIMER_G:
        return this.onTimerG();
      case TIMER_H:
        this.ctx.counters.timeouts++;
        this.terminate();
        this.onNoAck?.();
        return;
      default:
        this.terminate();
    }
  }

  /** Sends a response in this transaction; returns its bytes (what a ladder keeps). */
  respond(res: SipMessage): Buffer {
    const status = res.status;
    const data = serializeMessage(res);
    switch (this.state) {
      case 'trying':
      case 'proceeding':
        this.last = data;
        this.lastStatus = status;
        this.ctx.send(data, this.responseDest);
        if (status < 200) {
          this.state = 'proceeding';
          return data;
        }
        this.timer?.cancel();
        this.timer = undefined;
        if (this.isInvite && status < 300) {
          // RFC 6026 §7.1: Accepted; the TU retransmits the 2xx, Timer L (64*T1) ends the transaction.
          this.state = 'accepted';
          this.timer = this.ctx.wheel.scheduleFor(64 * this.ctx.timers.T1, this, END);
          return data;
        }
        this.state = 'completed';
        if (this.isInvite) {
          // §17.2.1: Timer G retransmits over unreliable transports; Timer H bounds the wait for ACK.
          if (!this.ctx.reliable(this.responseDest)) this.retransmit = this.ctx.wheel.scheduleFor(this.interval, this, TIMER_G);
          this.timer = this.ctx.wheel.scheduleFor(64 * this.ctx.timers.T1, this, TIMER_H);
        } else {
          // §17.2.2: Timer J = 64*T1 for unreliable transports, zero for reliable ones.
          if (this.ctx.reliable(this.responseDest)) this.terminate();
          else this.timer = this.ctx.wheel.scheduleFor(64 * this.ctx.timers.T1, this, END);
        }
        return data;
      case 'accepted':
        // RFC 6026 §7.1: retransmissions of the 2xx are sent by the TU through the transaction.
        if (status >= 200 && status < 300) this.ctx.send(data, this.responseDest);
        return data;
      default:
        return data; // a response after the final one is dropped (§17.2.1)
    }
  }


  private onTimerG(): void {
    this.retransmit = undefined;
    if (this.state !== 'completed' || !this.last) return;
    this.ctx.send(this.last, this.responseDest);
    this.ctx.counters.retransmissionsSent++;
    this.interval = Math.min(this.interval * 2, this.ctx.timers.T2);
    this.retransmit = this.ctx.wheel.scheduleFor(this.interval, this, TIMER_G);
  }

  /** A retransmission of the request: §17.2.1/§17.2.2 re-send the last response. */
  receiveRetransmission(): void {
    this.ctx.counters.retransmissionsReceived++;
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last) this.ctx.send(this.last, this.responseDest);
  }

  /** §17.2.1: the ACK for our non-2xx final response. */
  receiveAck(): void {
    if (this.state !== 'completed') {
      if (this.state === 'confirmed') this.ctx.counters.retransmissionsReceived++;
      return;
    }
    this.state = 'confirmed';
    this.retransmit?.cancel();
    this.retransmit = undefined;
    this.timer?.cancel();
    // Timer I: T4 for unreliable transports, zero for reliable.
    if (this.ctx.reliable(this.responseDest)) this.terminate();
    else this.timer = this.ctx.wheel.scheduleFor(this.ctx.timers.T4, this, END);
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.retransmit?.cancel();
    this.timer?.cancel();
    this.retransmit = this.timer = undefined;
    this.ctx.remove(this.key);
  }
}
