// RFC 3261 §13.3.1.4, the UAS core's part of a 2xx to INVITE: "the 2xx
// response is passed to the transport with an interval that starts at T1
// seconds and doubles for each retransmission until it reaches T2 seconds",
// until the ACK arrives, and "if the server retransmits the 2xx response for
// 64*T1 seconds without receiving an ACK" it stops. The INVITE server
// transaction ended with the 2xx (§17.2.1), so the transaction layer itself
// never calls this: it is a helper for the transaction user. It lives here,
// beside the transaction, timers and counters it works with, because both UAS
// cores use it and this is the one layer both may import: the scenario UA
// (engine/ua/uas.ts) and the reference server's built-in UAS
// (engine/server/uas.ts, which may not import engine/ua). One object per
// unacknowledged 2xx, its own TimerTarget on the wheel (scheduleFor): no
// closure per retransmission.

import type { SipMessage } from '../codec/index.js';
import type { TimerHandle, TimerTarget, TimerWheel } from '../timer/index.js';
import type { ServerTransaction } from './server.js';
import type { TransactionCounters, TransactionTimers } from './timers.js';

export class Retransmit2xx implements TimerTarget {
  private interval: number;
  private handle: TimerHandle | undefined;
  private readonly since: number;

  /**
   * `givesUp`: it stops by itself at 64*T1 and counts a timeout (the scenario UA). Without, it resends until
   * stopped: the reference server ends an unacknowledged call at 64*T1 by the call's own limit, over any
   * transport, which counts the timeout and stops this (engine/server/call-limits.ts, ackWaitMs).
   */
  constructor(
    private readonly wheel: TimerWheel,
    private readonly timers: TransactionTimers,
    private readonly counters: TransactionCounters,
    private readonly tx: ServerTransaction,
    private readonly res: SipMessage,
    private readonly givesUp: boolean,
  ) {
    this.interval = timers.T1;
    this.since = wheel.now();
    this.handle = wheel.scheduleFor(this.interval, this, 0);
  }

  onTimer(): void {
    if (this.givesUp && this.wheel.now() - this.since >= 64 * this.timers.T1) {
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

  /** The ACK arrived (or the call or instance ended): no more retransmissions. */
  stop(): void {
    this.handle?.cancel();
    this.handle = undefined;
  }
}
