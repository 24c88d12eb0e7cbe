// What every part of a scenario instance shares: who the UA is (identity,
// socket, Call-ID, tag), where it is in the steps and its dialog, the
// template variables its messages are rendered with, and the step timer.
// The instance is one object built up by layers (ua-context -> step-outcome
// -> uac -> uac-invite -> uas -> instance), each file holding one part of
// RFC 3261's user agent; methods on prototypes, so no closures per request.

import { newBranch, newCallId, newTag } from '../codec/index.js';
import type { StepMetrics } from '../metrics/index.js';
import { Random, streamSeed, STREAM_INSTANCE } from '../random/index.js';
import type { CompiledStep } from '../scenario/index.js';
import { renderTemplate, type Template, type TemplateVars } from '../scenario/template.js';
import type { TimerHandle } from '../timer/index.js';
import type { DialogState } from './dialog.js';
import type { Identity } from './identity.js';
import type { InstanceOutcome, RoleRuntime, UaHost, UaSocket, UaState } from './ua-host.js';

export abstract class UaContext implements TemplateVars {
  readonly callId: string;
  readonly localTag = newTag();
  /** Call-IDs besides its own that the runtime routes to this instance (a callee's calls), so that ending it removes exactly those. */
  otherCallIds: string[] | undefined;
  protected pc = 0;
  protected done = false;
  readonly startedAt: number;
  /** Captured variables; made at the first capture (most UAs never capture, and 100,000 empty Maps weigh). */
  protected vars: Map<string, string> | undefined;
  protected dialog: DialogState | undefined;
  protected stepTimer: TimerHandle | undefined;
  /** This instance's key in the worker's ladder store. */
  readonly serial: number;
  /** Which arrival of its role this instance is (the load runner's count): its random draws are seeded by it. */
  arrival = 0;
  /** Its place among the worker's running instances (a SlotSet), -1 when not running. */
  slot = -1;
  private rng: Random | undefined;
  /** The UA's state across its calls (the worker's, kept while its user may play again), looked up once per instance. */
  private state: UaState | undefined;
  /** Current step generation: callbacks from an earlier step are ignored. */
  protected gen = 0;
  iteration = 0;

  constructor(
    protected readonly rt: UaHost,
    protected readonly role: RoleRuntime,
    readonly me: Identity,
    readonly peer: Identity | undefined,
    protected readonly intendedStart: number,
    /** Where this UA sends from (the worker's socket, or its own with --socket-per-ua) and to. */
    readonly socket: UaSocket,
    protected readonly onDone: (o: InstanceOutcome) => void,
  ) {
    this.startedAt = rt.wheel.now();
    this.serial = rt.nextSerial();
    this.callId = newCallId(rt.local.host);
  }

  get user(): string {
    return this.me.user;
  }

  get roleIndex(): number {
    return this.role.index;
  }

  /** Runs the steps from `pc` until one waits (the interpreter, instance.ts). */
  protected abstract run(): void;

  /** The current step is done: the next one runs. */
  protected next(): void {
    this.clearStepTimer();
    this.pc++;
    this.run();
  }

  /** What the UA keeps across its calls (CSeq, login): the worker's object for this user. */
  protected uaState(): UaState {
    return (this.state ??= this.rt.uaState(this.me.user));
  }

  /** This instance's own random stream (pauses), from the run's seed, its role and its arrival: the same on a replay. */
  protected random(): Random {
    return (this.rng ??= new Random(streamSeed(this.rt.scenario.seed ?? 0, STREAM_INSTANCE, this.role.index, this.arrival)));
  }

  // ---- template variables ----

  lookup(name: string): string | undefined {
    const rt = this.rt;
    switch (name) {
      case 'user':
        return this.me.user;
      case 'password':
        return this.me.password;
      case 'domain':
        return this.me.domain ?? rt.domain;
      case 'aor':
        return `sip:${this.me.user}@${this.me.domain ?? rt.domain}`;
      case 'n':
        return String(this.me.index);
      case 'target.host':
        return rt.targetHostText;
      case 'target.port':
        return String(rt.target.port);
      case 'target.transport':
        return rt.target.protocol;
      case 'target.uri':
        return rt.targetUri;
      case 'local.host':
        return rt.localHostText;
      case 'local.port':
        return String(this.socket.local.port);
      case 'local.transport':
        return rt.local.protocol;
      case 'local.uri':
        return rt.contactUri(this.me.user, this.socket.local);
      case 'call.id':
        return this.callId;
      case 'branch':
        return newBranch();
      case 'tag':
        return this.localTag;
      case 'cseq':
        return String(this.uaState().cseq);
      case 'random':
        return String(Math.floor(Math.random() * 1e9));
      case 'timestamp':
        return String(Date.now());
      case 'iteration':
        return String(this.iteration);
      case 'peer.user':
        return this.peer?.user;
      case 'peer.aor':
        return this.peer ? `sip:${this.peer.user}@${this.peer.domain ?? rt.domain}` : undefined;
      case 'peer.domain':
        return this.peer?.domain ?? rt.domain;
      case 'peer.n':
        return this.peer ? String(this.peer.index) : undefined;
      default:
        // Captured, then the UA's CSV column, then --var (over the file's `vars`).
        return this.vars?.get(name) ?? this.me.fields[name.toLowerCase()] ?? (rt.scenario.vars && Object.hasOwn(rt.scenario.vars, name) ? rt.scenario.vars[name] : undefined);
    }
  }

  protected render(t: Template | undefined): string | undefined {
    return t === undefined ? undefined : renderTemplate(t, this);
  }

  // ---- steps ----

  protected stepLabel(step: CompiledStep | undefined): string {
    if (!step) return 'end';
    const n = this.role.role.steps.filter((s) => s.metric >= 0).indexOf(step) + 1;
    const name = 'name' in step ? step.name : step.kind;
    return n > 0 ? `${n} '${name}'` : `'${name}'`;
  }

  protected metrics(step: { metric: number }): StepMetrics {
    return this.role.metrics.steps[step.metric]!;
  }

  protected armStepTimeout(step: { timeoutMs: number }, onTimeout: () => void): void {
    this.clearStepTimer();
    const gen = this.gen;
    this.stepTimer = this.rt.wheel.schedule(step.timeoutMs, () => {
      this.stepTimer = undefined;
      if (gen === this.gen && !this.done) onTimeout();
    });
  }

  protected clearStepTimer(): void {
    this.stepTimer?.cancel();
    this.stepTimer = undefined;
  }
}
