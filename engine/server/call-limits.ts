// How long the built-in UAS keeps a call it answered, and how many it keeps:
// the limits that make an INVITE flood (no ACK, no BYE, no CANCEL) cost
// bounded memory. A call ends with its transactions when the caller goes
// silent; beyond the cap a new INVITE gets 503 with Retry-After, sent without
// a transaction so that the refusal itself holds no state.

export interface CallLimits {
  /** Live built-in calls (ringing, answered, established) beyond which a new INVITE is refused with 503. */
  maxCalls: number;
  /**
   * A call that rings (the user `ringing`) with no CANCEL ends after this with 408, as a proxy's Timer C (RFC 3261
   * §16.6 step 11: "greater than 3 minutes") would end it.
   */
  ringingMs: number;
  /** An established (ACKed) call with no BYE is forgotten after this. */
  establishedMs: number;
  /** The Retry-After of the 503 sent beyond the cap, in seconds (RFC 3261 §21.5.4, §20.33). */
  retryAfterS: number;
}

export const DEFAULT_CALL_LIMITS: CallLimits = {
  maxCalls: 10_000,
  ringingMs: 180_000,
  establishedMs: 3_600_000,
  retryAfterS: 5,
};

/**
 * RFC 3261 §13.3.1.4: "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the
 * dialog is confirmed, but the session SHOULD be terminated." The built-in UAS ends it without a BYE: a caller that
 * never ACKs is most often a flood, and a BYE per unACKed call would make us a flood source holding a client
 * transaction each; a genuine caller that lost every ACK learns the call is gone from the 481 to its next request.
 */
export function ackWaitMs(t1: number): number {
  return 64 * t1;
}
