// The one place where a step's outcome is recorded: a final response counted
// by code with its latency (service time from the actual send, corrected
// time from the intended start: coordinated omission), a timeout, a pass, a
// failure with its reason (the text, with the peer's words) and its kind (the
// key of the counts, without them), a request left unanswered at the end (an
// error), a step that does not apply to the peer (a conformance case's),
// every message in the ladder store, and the end of the instance with the
// sample of its failure ladder. The counting itself is functions
// (countFinal, countTimeout, countPassed, countFailed, and beside them
// countCode, countFinalCode, countErrored) that the conformance suites record
// their cases with too (engine/suites/result.ts): a step's counts mean the
// same in both.

import type { SipMessage } from '../codec/index.js';
import type { StepMetrics } from '../metrics/index.js';
import type { AwaitStep, CompiledStep, RawStep, SendStep } from '../scenario/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import { UaContext } from './ua-context.js';

/** A final response to the step's request: counted by code, with its service and corrected latency. */
export function countFinal(m: StepMetrics, status: number, serviceMs: number, correctedMs: number): void {
  m.finals++;
  m.code(status);
  m.latency(serviceMs, correctedMs);
}

/** A response counted by its code alone: a provisional, or a challenge answered with credentials. */
export function countCode(m: StepMetrics, status: number): void {
  m.code(status);
}

/** A final response counted by code with no latency: an async INVITE's (its await step records one), an unusable 2xx. */
export function countFinalCode(m: StepMetrics, status: number): void {
  m.finals++;
  m.code(status);
}

/** The step's request was left without a final response when the instance ended. */
export function countErrored(m: StepMetrics): void {
  m.errors++;
}

/** The step's request got no final response. */
export function countTimeout(m: StepMetrics): void {
  m.timeouts++;
}

export function countPassed(m: StepMetrics): void {
  m.passed++;
}

/** The step failed, counted under `kind` (no text of the peer's: it keys the counts). */
export function countFailed(m: StepMetrics, kind: string): void {
  m.fail(kind);
}

export abstract class StepOutcomes extends UaContext {
  /** The step whose request awaits its final response: counted as an error if the instance ends first. */
  protected outstanding: StepMetrics | undefined;
  /** Messages recorded in the worker's ladder store (it may have let the oldest go). */
  protected recorded = 0;

  /** What the UAC, UAS and interpreter stop when the instance ends (timers, retransmissions, waiting requests). */
  protected abstract endSides(): void;
  /** Lets go of the call's messages once ended (transactions may keep the instance reachable for 64*T1). */
  protected abstract releaseCall(): void;

  /** Corrected latency adds how late the instance started (coordinated omission). */
  protected corrected(serviceMs: number): number {
    return serviceMs + (this.startedAt - this.intendedStart);
  }

  /** A final response to the step's request, sent at `sentAt`: counted by code, its latency recorded. */
  protected finalResponse(m: StepMetrics, status: number, sentAt: number): void {
    this.outstanding = undefined;
    const serviceMs = this.rt.wheel.now() - sentAt;
    countFinal(m, status, serviceMs, this.corrected(serviceMs));
  }

  /** The step's request got no final response: a timeout, and the instance fails with `what`. */
  protected timedOut(step: CompiledStep, what: string): void {
    countTimeout(this.metrics(step));
    this.outstanding = undefined;
    this.fail(`step ${this.stepLabel(step)}: ${what}`);
  }

  /** The step passed: counted, and the next one runs. */
  protected passed(m: StepMetrics): void {
    countPassed(m);
    this.next();
  }

  /** The step passed and an `on` branch of it names where to go on. */
  protected passedTo(m: StepMetrics, target: number): void {
    countPassed(m);
    this.clearStepTimer();
    this.pc = target;
    this.run();
  }

  /**
   * The step failed: counted under `countedAs`; the instance ends with `text` as its reason and `kind` (the
   * text without the peer's words) as the key of the counts, both after the step's label.
   */
  protected stepFailed(step: CompiledStep, countedAs: string, text: string, kind = text): void {
    countFailed(this.metrics(step), countedAs);
    const label = this.stepLabel(step);
    this.fail(`step ${label}: ${text}`, `step ${label}: ${kind}`);
  }

  /** A final response outside the step's expectation: counted by code, the reason phrase only in the example text. */
  protected failGot(step: SendStep | RawStep | AwaitStep, res: SipMessage): void {
    countFailed(this.metrics(step), `expected ${step.expect.text}, got ${res.status}`);
    const kind = `step ${this.stepLabel(step)}: expected ${step.expect.text}, got ${res.status}`;
    this.fail(`${kind} ${res.reason}`.trim(), kind);
  }

  /** A message sent or received, kept in the worker's ladder store for the ladder should the instance fail. */
  protected record(dir: 'sent' | 'received', data: Buffer | SipMessage): void {
    this.recorded++;
    this.rt.ladders.add(this.serial, this.rt.wheel.now() - this.startedAt, dir, data);
  }

  /** Ends the instance as failed; `kind` is the reason without the peer's text (it keys the counts). */
  protected fail(reason: string, kind = reason): void {
    this.finish(reason, kind);
  }

  /**
   * The step does not apply to this peer (a conformance case's `inapplicable` answer, a digest mode the server does
   * not offer): the instance ends neither passed nor failed, saying why; it leaves the running count only.
   */
  protected notApplicable(why: string): void {
    this.finish(undefined, undefined, why);
  }

  protected finish(reason?: string, kind = reason, notApplicable?: string): void {
    if (this.done) return;
    this.done = true;
    this.gen++;
    this.clearStepTimer();
    this.endSides();
    if (this.outstanding) countErrored(this.outstanding);
    this.outstanding = undefined;
    this.rt.instanceEnded(this);
    const now = this.rt.wheel.now();
    const durationMs = now - this.startedAt;
    if (reason !== undefined) this.rt.sampleFailure(this.role, this, reason, this.recorded);
    this.releaseCall();
    const outcome = { passed: reason === undefined && notApplicable === undefined, reason, notApplicable, durationMs, correctedMs: now - this.intendedStart };
    if (notApplicable !== undefined) this.role.metrics.running--;
    else this.role.metrics.instanceDone(outcome.passed, durationMs, outcome.correctedMs, reason?.replace(/^step /, '').slice(0, 200), kind?.replace(/^step /, '').slice(0, 200));
    this.onDone(outcome);
  }

  /** Ends before its first step ran (e.g. its peer never became ready): failed at that step, with why. */
  abortBeforeStart(why: string): void {
    this.fail(`step ${this.stepLabel(this.role.role.steps[this.pc])}: ${why}`);
  }

  /** Stops at once (end of run): counts as failed only if `reason` is given. */
  abort(reason: string): void {
    this.fail(reason);
  }

  // Declared for the HostedInstance contract; the UAC and UAS layers implement them.
  abstract onRequest(req: SipMessage, tx: ServerTransaction | undefined): void;
  abstract onStrayResponse(res: SipMessage): void;
}
