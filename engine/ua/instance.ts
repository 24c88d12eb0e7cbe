// One run of a scenario by one simulated UA: the interpreter. It walks the
// compiled steps: flow steps (label, goto, loop, pause) run here; send, raw
// and await steps go to the UAC side (uac.ts, uac-invite.ts), recv steps to
// the UAS side (uas.ts); every outcome is recorded by step-outcome.ts. The
// instance ends passed or failed with a reason that names the step.

import { sample } from '../random/index.js';
import type { TimerHandle, TimerTarget } from '../timer/index.js';
import type { Identity } from './identity.js';
import type { InstanceOutcome, RoleRuntime, UaHost, UaSocket } from './ua-host.js';
import { MessageSteps } from './message-steps.js';
import { countErrored } from './step-outcome.js';

export type { InstanceOutcome } from './ua-host.js';

/** The loop counters of a scenario without loops: one empty array for every instance of it. */
const NO_LOOPS: number[] = [];

/** The instance's own timers (TimerTarget kinds). */
const SCENARIO_TIMEOUT = 0;
const PAUSE_OVER = 1;

export class ScenarioInstance extends MessageSteps implements TimerTarget {
  private readonly loopCounters: number[];
  private scenarioTimer: TimerHandle | undefined;
  private pauseTimer: TimerHandle | undefined;

  constructor(rt: UaHost, role: RoleRuntime, me: Identity, peer: Identity | undefined, intendedStart: number, socket: UaSocket, onDone: (o: InstanceOutcome) => void) {
    super(rt, role, me, peer, intendedStart, socket, onDone);
    this.loopCounters = role.role.loopSlots ? new Array(role.role.loopSlots).fill(0) : NO_LOOPS;
  }

  start(): void {
    this.rt.registerCallId(this.callId, this);
    this.scenarioTimer = this.rt.wheel.scheduleFor(this.rt.scenario.timeoutMs, this, SCENARIO_TIMEOUT);
    this.run();
  }

  onTimer(kind: number): void {
    if (kind === SCENARIO_TIMEOUT) {
      this.fail(`scenario timeout: not finished within ${this.rt.scenario.timeoutMs / 1000}s (at step ${this.stepLabel(this.role.role.steps[this.pc])})`);
    } else {
      this.pauseTimer = undefined;
      this.run();
    }
  }

  protected run(): void {
    const steps = this.role.role.steps;
    // Flow steps run in a loop; steps that wait return and resume through callbacks.
    while (!this.done) {
      if (this.pc >= steps.length) return this.finish();
      const step = steps[this.pc]!;
      this.gen++;
      switch (step.kind) {
        case 'label':
          this.pc++;
          continue;
        case 'goto':
          this.pc = step.if === undefined || this.isSet(step.if) ? step.target : this.pc + 1;
          continue;
        case 'set':
          this.applySet(step);
          this.pc++;
          continue;
        case 'loop-enter':
          this.loopCounters[step.slot] = step.count;
          this.pc++;
          continue;
        case 'loop-next':
          if (--this.loopCounters[step.slot]! > 0) this.pc = step.target;
          else this.pc++;
          continue;
        case 'pause': {
          const ms = step.pause.type === 'fixed' ? step.pause.ms : sample(step.pause, this.random());
          this.pc++;
          if (ms <= 0) continue;
          this.pauseTimer = this.rt.wheel.scheduleFor(ms, this, PAUSE_OVER);
          return;
        }
        case 'send':
          return this.doSend(step);
        case 'recv':
          return this.doRecv(step);
        case 'response':
          return this.doResponse(step);
        case 'raw':
          return this.doRaw(step);
        case 'await':
          return this.doAwait(step);
        case 'dtmf':
          return this.doDtmf(step);
      }
    }
  }

  protected endSides(): void {
    this.scenarioTimer?.cancel();
    this.pauseTimer?.cancel();
    this.retrans2xx?.stop();
    this.stopMedia();
    // An async INVITE still without its final response counts as an error on its step.
    for (const [id, p] of this.pending ?? []) {
      if (!p.final) {
        const slot = this.role.role.steps.find((st) => st.kind === 'send' && st.asyncId === id);
        if (slot) countErrored(this.metrics(slot));
      }
    }
    for (const { req, tx } of this.inbox ?? []) this.rt.answerUnexpected(req, tx);
    this.inbox = undefined;
  }

  protected releaseCall(): void {
    // Transactions in their final states may keep this object reachable for up to 64*T1 (an INVITE whose ACK was
    // not handed over): let go of the messages now so that a finished call costs little memory.
    this.pending = undefined;
    this.vars = undefined;
    this.lastSent = undefined;
    this.handOverAck(this.lastInvite);
    this.lastInvite = undefined;
    this.dialog = undefined;
  }
}
