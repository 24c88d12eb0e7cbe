// What a transaction needs from the layer that owns it: a way to send, the
// timer wheel, the timer values and the counters. Passed explicitly so that
// every worker thread has its own (no module state).

import type { TimerWheel } from '../timer/index.js';
import type { Endpoint } from '../transport/index.js';
import type { TransactionCounters, TransactionTimers } from './timers.js';

export interface TransactionContext {
  send(data: Buffer, dest: Endpoint): void;
  wheel: TimerWheel;
  timers: TransactionTimers;
  counters: TransactionCounters;
  reliable(dest: Endpoint): boolean;
  /** Called when a transaction reaches Terminated so the layer forgets it (a client transaction: its branch and method). */
  remove(key: string, method?: string): void;
}

export interface ClientTransactionContext extends TransactionContext {
  /**
   * A non-INVITE client transaction completed over an unreliable transport: the layer forgets it
   * and only absorbs retransmissions of its final response for Timer K (T4), from its key alone.
   */
  linger(branch: string, method: string): void;
  /** An INVITE client transaction in Accepted whose UA handed over its ACK: the layer sends it for each 2xx until Timer M. */
  lingerAccepted(branch: string, ack: Buffer, dest: Endpoint): void;
}
