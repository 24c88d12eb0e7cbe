// RFC 3261 §13.3.1.4, the UAS core's part of a 2xx to INVITE: "the 2xx
// response is passed to the transport with an interval that starts at T1
// seconds and doubles for each retransmission until it reaches T2 seconds",
// until the ACK arrives, and "if the server retransmits the 2xx response for
// 64*T1 seconds without receiving an ACK" it stops. The INVITE server
// transaction ended with the 2xx (§17.2.1), so the UAS side owns this, not the
// transaction layer. One object per unacknowledged 2xx, its own TimerTarget
// on the worker's wheel (scheduleFor): no closure per retransmission.

import type { SipMessage } from '../codec/index.js';
import type { TimerHandle, TimerTarget, TimerWheel } from '../timer/index.js';
import type { ServerTransaction, TransactionCounters, TransactionTimers } from '../transaction/index.js';

export class Retransmit2xx implements TimerTarget {
  private interval: number;
  private handle: TimerHandle | undefined;
  private readonly since: number;

  constructor(
    private readonly wheel: TimerWheel,
    private readonly timers: TransactionTimers,
    private readonly counters: TransactionCounters,
    private readonly tx: ServerTransaction,
    private readonly res: SipMessage,
  ) {
    this.interval = timers.T1;
    this.since = wheel.now();
    this.handle = wheel.scheduleFor(this.interval, this, 0);
  }

  /** Still retransmitting: neither stopped by the ACK nor given up. */
  get running(): boolean {
    return this.handle !== undefined;
  }

  onTimer(): void {
    if (this.wheel.now() - this.since >= 64 * this.timers.T1) {
      // No ACK within 64*T1: the 2xx is not sent again. The session SHOULD then end; the scenario's steps decide how.
      this.handle = undefined;
      this.counters.timeouts++;
      return;
    }
    this.tx.respond(this.res);
    this.counters.retransmissionsSent++;
    this.interval = Math.min(this.interval * 2, this.timers.T2);
    this.handle = this.wheel.scheduleFor(this.interval, this, 0);
  }

  /** The ACK arrived (or the instance ended): no more retransmissions. */
  stop(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }
}
