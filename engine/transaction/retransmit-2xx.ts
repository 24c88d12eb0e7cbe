// RFC 3261 §13.3.1.4: the UAS core, not the transaction, retransmits a 2xx to
// INVITE: at T1, doubling up to T2, until the ACK arrives or 64*T1 passes.

import type { TimerHandle, TimerWheel } from '../timer/index.js';
import type { TransactionCounters, TransactionTimers } from './timers.js';

export interface Retransmission {
  /** The ACK arrived: stop. */
  stop(): void;
}

export function retransmit2xx(opts: {
  wheel: TimerWheel;
  timers: TransactionTimers;
  counters: TransactionCounters;
  resend: () => void;
  /** No ACK within 64*T1: §13.3.1.4 says the UAS SHOULD then end the dialog with BYE. */
  onGiveUp: () => void;
}): Retransmission {
  let interval = opts.timers.T1;
  let handle: TimerHandle | undefined;
  const start = opts.wheel.now();
  const tick = () => {
    if (opts.wheel.now() - start >= 64 * opts.timers.T1) {
      handle = undefined;
      opts.counters.timeouts++;
      opts.onGiveUp();
      return;
    }
    opts.resend();
    opts.counters.retransmissionsSent++;
    interval = Math.min(interval * 2, opts.timers.T2);
    handle = opts.wheel.schedule(interval, tick);
  };
  handle = opts.wheel.schedule(interval, tick);
  return {
    stop() {
      handle?.cancel();
      handle = undefined;
    },
  };
}
