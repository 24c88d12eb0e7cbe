// Drives the roles of a scenario in one event loop (one worker): open-model
// arrivals at their intended times with a concurrency cap and a bounded
// backlog (late starts keep their intended time, so corrected latency counts
// the wait; arrivals beyond the backlog are dropped and counted), or the
// closed model (each UA loops with think time). Stops on total, duration,
// first failure or abort, then drains running instances; after a time-bounded
// load, the graceful stop ends what still runs. The concurrency cap is the
// whole run's (concurrency.ts).

import type { LoadSettings } from '../scenario/index.js';
import type { TimerHandle, TimerWheel } from '../timer/index.js';
import type { InstanceOutcome, RoleRuntime, WorkerRuntime } from '../ua/index.js';
import { ArrivalSchedule } from './arrivals.js';
import { RunWideCap, type SharedCap } from './concurrency.js';
import { Lateness } from './health.js';
import { servedUsers } from './peer-served.js';
import { shareOf, type Part } from './segment.js';
import { SlotSet, type Slotted } from '../collections/key-table.js';

/**
 * How early an arrival may start. Node wakes a timer to the millisecond at best, so an arrival
 * due between two wake-ups goes out at the earlier one when that is at most this much before its
 * time, rather than up to a millisecond late at the later one. Its corrected latency then counts
 * from the actual start, never from a time before the request went out.
 */
const EARLY_MS = 0.5;

export interface LoadOverrides {
  rate?: number;
  total?: number;
  durationMs?: number;
  users?: number;
  maxConcurrent?: number;
  /** --graceful-stop: replaces the scenario's load.gracefulStop. */
  gracefulStopMs?: number;
  /** --arrivals: replaces the scenario's load.arrivals. */
  arrivals?: 'uniform' | 'poisson';
}

export interface RunnerOptions {
  part: Part;
  overrides: LoadOverrides;
  stopOnFirstFailure?: boolean;
  /** Longest a running instance may take after the load ends before it is stopped (default: scenario timeout). */
  drainMs?: number;
  /**
   * A replacement for a worker that crashed (--restart-workers): the schedule keeps the run's start,
   * arrivals due before `at` are not started, and of those, the ones beyond what the dead worker
   * accounted for (started or dropped, per role) are counted as dropped.
   */
  resume?: { at: number; accounted: number[] };
  /** --listen: instances start for callers' requests, not on a schedule (runListening). */
  listen?: boolean;
  /** The run-wide counters of running instances (load.maxConcurrent), shared by the workers, and this worker's index. */
  cap?: { shared: SharedCap; worker: number };
}

/** k6's default gracefulStop. */
export const DEFAULT_GRACEFUL_STOP_MS = 30_000;

/** Why an instance still running when the graceful stop runs out ends failed. */
export const GRACEFUL_STOP_REASON = 'stopped: still running when the graceful stop after the end of the load ran out';

export function effectiveLoad(load: LoadSettings, o: LoadOverrides): LoadSettings {
  const out: LoadSettings = { ...load };
  if (o.rate !== undefined) {
    out.rate = o.rate;
    delete out.phases;
    if (out.model === 'closed') out.model = 'open';
  }
  // A stop condition given on the command line replaces the file's: --duration alone
  // runs for that long whatever the file's total, and --total alone ignores its duration.
  if (o.total !== undefined || o.durationMs !== undefined) {
    delete out.total;
    delete out.durationMs;
  }
  if (o.total !== undefined) out.total = o.total;
  if (o.durationMs !== undefined) out.durationMs = o.durationMs;
  if (o.maxConcurrent !== undefined) out.maxConcurrent = o.maxConcurrent;
  if (o.gracefulStopMs !== undefined) out.gracefulStopMs = o.gracefulStopMs;
  if (o.arrivals !== undefined) out.arrivals = o.arrivals;
  if (out.model === 'open' && out.total === undefined && out.durationMs === undefined && !out.phases) out.total = 1;
  return out;
}

/**
 * When, from the start, a time-bounded load ends: its duration, or the end of its phases. A load bounded by a count
 * only (total, iterations) has no such end: it ends when its instances do, each bounded by the scenario timeout.
 */
function loadEndOf(load: LoadSettings): number {
  const phases = load.phases?.reduce((a, p) => a + p.durationMs, 0);
  return Math.min(load.durationMs ?? Infinity, phases ?? Infinity);
}

/** An arrival or think-time timer not yet fired, where stop() finds it. */
class PendingTimer implements Slotted {
  slot = -1;
  handle: TimerHandle | undefined;
}

export class LoadRunner {
  private stopped = false;
  /**
   * Pending arrival and think-time timers, so that stop() can cancel them; each leaves the set when it fires. A
   * SlotSet, not a Set: one comes and goes per arrival (collections/key-table.ts).
   */
  private readonly timers = new SlotSet<PendingTimer>();
  private activeRoles = 0;
  private resolveDone!: () => void;
  readonly done: Promise<void>;
  /** How late arrivals started (for the generator's health). */
  readonly lateness = new Lateness();
  private readonly t0: number;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly wheel: TimerWheel,
    private readonly opts: RunnerOptions,
    startAt: number,
  ) {
    this.t0 = startAt;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  start(): void {
    let loadEnd = 0;
    let graceMs = 0;
    // What each role's users are (the same counts as runOpen/runClosed below), for the peer-ready rule.
    const counts = this.rt.roles.map((role) => {
      const load = effectiveLoad(role.role.load, this.opts.overrides);
      return this.opts.overrides.users ?? role.role.users.count ?? (load.model === 'closed' ? 1 : (load.total ?? 1000));
    });
    const served = this.rt.roles.map((role, i) => servedUsers(effectiveLoad(role.role.load, this.opts.overrides), counts[i]!, role.role.users.first, this.opts.part));
    this.rt.userCounts = counts;
    this.rt.servesUser = (roleIndex, userIndex) => served[roleIndex]!(userIndex);
    this.rt.roles.forEach((role, i) => {
      const load = effectiveLoad(role.role.load, this.opts.overrides);
      const users = this.opts.overrides.users ?? role.role.users.count;
      // Arrival k plays user first + k % count: with no more arrivals than users (and than rows of a users CSV,
      // which wraps around), none plays twice.
      const total = load.model === 'open' && !this.opts.listen ? load.total : undefined;
      role.usersPlayOnce = total !== undefined && total <= counts[i]! && total <= role.identities.size;
      this.activeRoles++;
      loadEnd = Math.max(loadEnd, loadEndOf(load));
      graceMs = Math.max(graceMs, load.gracefulStopMs ?? DEFAULT_GRACEFUL_STOP_MS);
      if (this.opts.listen) this.runListening(i, role, load, users ?? load.total ?? 1000);
      else if (load.model === 'closed') this.runClosed(i, role, load, users ?? 1);
      else this.runOpen(i, role, load, users ?? load.total ?? 1000);
    });
    if (this.activeRoles === 0) this.resolveDone();
    // The graceful stop: computed from the schedule, so every worker (and shard) stops at the same instant.
    else if (loadEnd !== Infinity) this.after(Math.max(0, this.t0 + loadEnd + graceMs - this.wheel.now()), () => this.gracefulStop());
  }

  /** The load is over and its grace has run out: no more starts, and what still runs ends failed ('stopped'). */
  private gracefulStop(): void {
    this.stop();
    this.rt.abortAll(GRACEFUL_STOP_REASON);
    // Nothing runs any more (a closed-model UA in its think time had its timer cancelled): the load is done.
    this.resolveDone();
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.timers.list()) {
      p.handle?.cancel();
      this.timers.delete(p);
    }
    for (const wake of this.stopListeners.splice(0)) wake();
  }

  /** Roles with arrivals waiting for a slot of the run-wide cap: told at stop, so that they drop them and finish. */
  private readonly stopListeners: (() => void)[] = [];

  private after(ms: number, fn: () => void): void {
    const pending = new PendingTimer();
    pending.handle = this.wheel.schedule(ms, () => {
      this.timers.delete(pending);
      fn();
    });
    this.timers.add(pending);
  }

  private roleFinished(): void {
    if (--this.activeRoles === 0) this.resolveDone();
  }

  private onInstanceDone(passed: boolean): void {
    if (!passed && this.opts.stopOnFirstFailure) this.stop();
  }

  private runOpen(roleIndex: number, role: RoleRuntime, load: LoadSettings, userCount: number): void {
    const schedule = new ArrivalSchedule(load, this.rt.scenario.seed);
    const part = this.opts.part;
    // The cap is the whole run's: a counter shared by this process's workers, holding its shard's share of the cap.
    const shared = this.opts.cap;
    let cap: RunWideCap | undefined;
    if (load.maxConcurrent !== undefined && shared) {
      const workers = shared.shared.workers;
      const limit = RunWideCap.shardLimit(load.maxConcurrent, Math.floor(part.index / workers), part.count / workers);
      cap = new RunWideCap(shared.shared, roleIndex, shared.worker, limit);
    }
    // A runner without shared counters (on its own, not under the coordinator) caps what it runs itself.
    const localLimit = load.maxConcurrent === undefined || cap ? Infinity : load.maxConcurrent;
    const backlogLimit = Math.max(100, Math.ceil((load.rate ?? 100) * 10));
    const backlog: { k: number; intended: number }[] = [];
    let running = 0;
    /** Whether a slot can be had now (and then it is taken). */
    const acquire = () => (cap ? cap.tryAcquire() : running < localLimit);
    // Arrivals waiting for a slot another worker frees: woken by the shared counter.
    const drainBacklog = () => {
      while (backlog.length && !this.stopped && acquire()) {
        const next = backlog.shift()!;
        launch(next.k, next.intended, true);
      }
      if (backlog.length && !this.stopped) cap?.whenFree(drainBacklog);
      else finishIfDone();
    };
    if (cap) this.stopListeners.push(() => finishIfDone());
    let k = part.index;
    let arrivalsOver = false;
    const first = role.role.users.first;
    const endAt = load.durationMs;
    const resume = this.opts.resume;
    const accounted = resume?.accounted[roleIndex] ?? 0;
    let skipped = 0;

    /** `held`: the slot of the cap is already taken. */
    const launch = (arrival: number, intended: number, held: boolean) => {
      if (!held && cap && !cap.tryAcquire()) {
        backlog.unshift({ k: arrival, intended });
        return cap.whenFree(drainBacklog);
      }
      running++;
      const now = this.wheel.now();
      this.lateness.record(now - intended);
      const userIndex = first + (arrival % userCount);
      this.rt.startInstance(roleIndex, userIndex, Math.min(intended, now), ended, arrival);
    };
    // One callback for every instance of the role (what it needs is the role's, not the arrival's).
    const ended = (o: InstanceOutcome) => {
      running--;
      cap?.release();
      this.onInstanceDone(o.passed);
      const nextUp = backlog.shift();
      if (nextUp && !this.stopped) launch(nextUp.k, nextUp.intended, false);
      else if (nextUp) role.metrics.dropped++; // never started: stopped with arrivals still waiting
      finishIfDone();
    };
    const finishIfDone = () => {
      // Arrivals still waiting for a slot that another worker holds keep the role going, unless stopped.
      if (running === 0 && (this.stopped || (arrivalsOver && backlog.length === 0))) {
        if (backlog.length) role.metrics.dropped += backlog.splice(0).length;
        arrivalsOver = true;
        if (!finished) {
          finished = true;
          this.roleFinished();
        }
      }
    };
    let finished = false;
    const arrive = (arrival: number, intended: number) => {
      if (cap?.limit === 0) role.metrics.dropped++; // a shard whose share of the cap is none can never start one
      else if (backlog.length === 0 && acquire()) launch(arrival, intended, true);
      else if (backlog.length < backlogLimit) {
        backlog.push({ k: arrival, intended });
        cap?.whenFree(drainBacklog);
      } else role.metrics.dropped++;
    };
    // A loop, not recursion: after a stall thousands of arrivals can be due at once.
    const scheduleNext = (): void => {
      for (;;) {
        const t = this.stopped || (load.total !== undefined && k >= load.total) ? undefined : schedule.timeOf(k);
        if (t === undefined || (endAt !== undefined && t >= endAt)) {
          arrivalsOver = true;
          return finishIfDone();
        }
        const intended = this.t0 + t;
        const arrival = k;
        k += part.count;
        if (resume && intended < resume.at) {
          // Due while this worker's predecessor was dying or this one starting.
          if (++skipped > accounted) role.metrics.dropped++;
          continue;
        }
        const delay = intended - EARLY_MS - this.wheel.now();
        if (delay > 0) {
          return this.after(delay, () => {
            if (!this.stopped) arrive(arrival, intended);
            scheduleNext();
          });
        }
        arrive(arrival, intended);
      }
    };
    scheduleNext();
  }

  /**
   * --listen: no arrivals; each new request of the first step's method from a caller starts an instance (SIPp's
   * uas mode), up to `total` (then requests are answered as unexpected), until the load's duration ends.
   */
  private runListening(roleIndex: number, role: RoleRuntime, load: LoadSettings, userCount: number): void {
    const first = role.role.steps.find((s) => s.kind !== 'label');
    const method = first?.kind === 'recv' ? first.method : undefined;
    let started = 0;
    let running = 0;
    let finished = false;
    const total = load.total ?? Infinity;
    const finishIfDone = () => {
      if (!finished && running === 0 && (this.stopped || started >= total)) {
        finished = true;
        this.rt.listenFor(undefined);
        this.roleFinished();
      }
    };
    this.stopListeners.push(finishIfDone);
    this.rt.listenFor((req, source) => {
      if (this.stopped || started >= total || req.method !== method) return false;
      const userIndex = role.role.users.first + (started % userCount);
      started++;
      running++;
      this.rt.startListening(roleIndex, userIndex, req.callId(), source, (o) => {
        running--;
        this.onInstanceDone(o.passed);
        finishIfDone();
      });
      return true;
    });
  }

  private runClosed(roleIndex: number, role: RoleRuntime, load: LoadSettings, userCount: number): void {
    const part = this.opts.part;
    const mine = shareOf(part, userCount);
    if (mine === 0) return this.roleFinished();
    const first = role.role.users.first;
    const endAt = load.durationMs !== undefined ? this.t0 + load.durationMs : Infinity;
    const iterations = load.iterations ?? (load.durationMs === undefined ? 1 : Infinity);
    const resume = this.opts.resume;
    let total = resume?.accounted[roleIndex] ?? 0;
    let loops = mine;
    const loopDone = () => {
      if (--loops === 0) this.roleFinished();
    };
    for (let j = 0; j < mine; j++) {
      const userIndex = first + part.index + j * part.count;
      let done = 0;
      const iterate = (intended: number) => {
        if (this.stopped || this.wheel.now() >= endAt || done >= iterations || (load.total !== undefined && total >= Math.ceil(load.total / part.count))) return loopDone();
        total++;
        this.lateness.record(this.wheel.now() - intended);
        // Its arrival number, for its random stream: this UA's iteration, counted over the role's users.
        const arrival = done * userCount + (userIndex - first);
        this.rt.startInstance(roleIndex, userIndex, intended, (o) => {
          done++;
          this.onInstanceDone(o.passed);
          const think = load.thinkTimeMs ?? 0;
          const next = this.wheel.now() + think;
          if (think > 0) this.after(think, () => iterate(next));
          else iterate(next);
        }, arrival);
      };
      iterate(resume ? Math.max(this.t0, resume.at) : this.t0);
    }
  }
}
