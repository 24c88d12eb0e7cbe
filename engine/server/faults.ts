// Fault knobs of the embedded server, for testing the harness itself: delay,
// drop, error answers, a pause, and protocol mistakes on purpose. All off by
// default; `setFaults` changes them while the server runs.

export interface ServerFaults {
  /** Delay before handling each incoming message: fixed ms or uniform random in [min, max]. */
  delayMs?: number | { min: number; max: number };
  /** Share (0..1) of incoming requests silently dropped. */
  dropRate?: number;
  /** Share (0..1) of new requests answered with errorCode. */
  errorRate?: number;
  errorCode?: number;
  /** Hold every incoming message for this long, starting pauseAtMs after the knob is set. */
  pauseMs?: number;
  pauseAtMs?: number;
  /** Protocol mistakes, for conformance tests: no To tag on responses, no 100 Trying, a changed Via. */
  noToTag?: boolean;
  no100?: boolean;
  mangleVia?: boolean;
  /** The RTP echo (rtp-echo.ts): share of echoed RTP dropped, every other packet's timestamp moved this many ms back, share reordered, nothing echoed. */
  rtpDropRate?: number;
  rtpJitterMs?: number;
  rtpReorderRate?: number;
  rtpOneWay?: boolean;
}

export function faultDelay(f: ServerFaults, now: number, pauseStart: number): number {
  let delay = 0;
  if (typeof f.delayMs === 'number') delay = f.delayMs;
  else if (f.delayMs) delay = f.delayMs.min + Math.random() * (f.delayMs.max - f.delayMs.min);
  if (f.pauseMs && now >= pauseStart && now < pauseStart + f.pauseMs) delay = Math.max(delay, pauseStart + f.pauseMs - now);
  return delay;
}
