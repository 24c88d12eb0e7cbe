// What a signal changes in a result built before it came (the run had ended,
// its reports were being written): it is marked interrupted and given the
// verdict again, by the one rule (engine/metrics/verdict.ts), where an
// interrupted run is never a pass.

import { applyVerdict, type RunResult } from '../engine/metrics/index.js';
import type { StopSignal } from './interrupts.js';

export function markInterrupted(result: RunResult, sig: StopSignal): void {
  result.interrupted = true;
  result.signal = sig;
  applyVerdict(result);
}
