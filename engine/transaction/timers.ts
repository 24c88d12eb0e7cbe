// RFC 3261 §17 timer values (Table 4 of Appendix A). T1 is the RTT estimate,
// T2 the cap on non-INVITE retransmission intervals, T4 the time a message
// stays in the network.

export interface TransactionTimers {
  T1: number;
  T2: number;
  T4: number;
}

export const DEFAULT_TIMERS: TransactionTimers = { T1: 500, T2: 4000, T4: 5000 };

export interface TransactionCounters {
  /** Requests and responses we sent again because no answer came (Timer A/E/G, 2xx retransmission). */
  retransmissionsSent: number;
  /** Of those, the requests, by method (a capture's INVITEs are the INVITE step's sends and these). */
  requestRetransmissions: Record<string, number>;
  /** Retransmitted requests or responses we received and absorbed. */
  retransmissionsReceived: number;
  timeouts: number;
  /** Responses matching no client transaction, ACKs matching nothing. */
  stray: number;
}

export function newTransactionCounters(): TransactionCounters {
  return { retransmissionsSent: 0, requestRetransmissions: {}, retransmissionsReceived: 0, timeouts: 0, stray: 0 };
}
