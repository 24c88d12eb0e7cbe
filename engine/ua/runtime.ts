// The simulated UAs of one event loop (one worker thread): WorkerRuntime, the
// one object that implements UaHost (ua-host.ts), the only thing an instance
// knows of it. It is made in layers, methods on one prototype:
// runtime-sockets.ts (roles, transaction layer, the sockets), then
// runtime-instances.ts (starting, routing and aborting instances), then
// runtime-incoming.ts (received messages and requests no instance wants), then
// this file: its making, the failed instances' samples and ladders, and the
// snapshot. What stands on its own is beside it (runtime-config.ts,
// peer-ready.ts, failure-ladder.ts, call-routes.ts, ladder-store.ts).

import { performance } from 'node:perf_hooks';
import type { TimerWheel } from '../timer/index.js';
import { hostText } from '../codec/index.js';
import { rawOf, type FailureSample, type RunSnapshot } from '../metrics/index.js';
import type { HostedInstance, RoleRuntime, UaHost } from './ua-host.js';
import { redact } from './redact.js';
import { LadderStore } from './ladder-store.js';
import type { RuntimeConfig } from './runtime-config.js';
import { ladderEntries } from './failure-ladder.js';
import { CaptureRecorder } from '../capture/recorder.js';
import { loadMsLogin } from './ms-login.js';
import { loadCallMedia } from './call-media.js';
import { RuntimeIncoming } from './runtime-incoming.js';

export type { Credentials, RuntimeConfig } from './runtime-config.js';
export type { RoleRuntime, UaSocket, UaState } from './ua-host.js';

export class WorkerRuntime extends RuntimeIncoming implements UaHost {
  private readonly failures: FailureSample[] = [];
  /** The messages of every instance, for the ladders of the ones that fail (a fixed budget per worker). */
  readonly ladders = new LadderStore();

  private constructor(cfg: RuntimeConfig, wheel: TimerWheel) {
    super(cfg, wheel);
  }

  static async create(cfg: RuntimeConfig, wheel: TimerWheel): Promise<WorkerRuntime> {
    await Promise.all([loadMsLogin(cfg.scenario), loadCallMedia(cfg.scenario)]);
    const rt = new WorkerRuntime(cfg, wheel);
    if (cfg.listenPort !== undefined) rt.early = [];
    if (cfg.capture) rt.capture = new CaptureRecorder(cfg.capture, rt.captureMask());
    rt.transport = await rt.openTransport(false);
    rt.local = rt.transport.local;
    rt.localHostText = hostText(rt.local.host);
    rt.shared = { local: rt.local, dest: rt.target };
    return rt;
  }

  /** `recorded`: how many messages the instance recorded; fewer still in the store means the ladder lost its first ones. */
  sampleFailure(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void {
    const secrets = inst.me.password ? [...this.secrets, inst.me.password] : this.secrets;
    if (this.capture) this.traceFailed(role, inst, redact(reason, secrets), recorded);
    if (this.failures.length >= (this.cfg.maxFailureSamples ?? 20)) return;
    const local = `${this.localHostText}:${inst.socket.local.port}`;
    const kept = this.ladders.messagesOf(inst.serial);
    if (kept.length < recorded) reason += ` (ladder: the first ${recorded - kept.length} of its ${recorded} messages were let go to keep the worker's ladder store within ${Math.round(this.ladders.budgetBytes / 1048576)} MB)`;
    const ladder = ladderEntries(kept, local, `${this.targetHostText}:${this.target.port}`, secrets);
    this.failures.push({ scenario: this.scenario.name, role: role.role.name, user: inst.user, reason: redact(reason, secrets), ladder });
  }

  /** --trace-failed: every failed instance's messages, not only the sample the reports keep. */
  private traceFailed(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void {
    const kept = this.ladders.messagesOf(inst.serial);
    const origin = performance.timeOrigin + inst.startedAt;
    const lost = kept.length < recorded ? ` (its first ${recorded - kept.length} of ${recorded} messages were let go by the worker's ${Math.round(this.ladders.budgetBytes / 1048576)} MB ladder store)` : '';
    const header = `failed instance: scenario ${this.scenario.name}, role ${role.role.name}, user ${inst.user}: ${reason}${lost}`;
    const messages = kept.map((m) => ({ t: origin + m.t, received: m.dir === 'received', data: m.data }));
    this.capture!.failedInstance(header, this.target.protocol, inst.socket.local.host, inst.socket.local.port, this.target.host, this.target.port, messages);
  }

  snapshot(): RunSnapshot {
    const c = this.layer.counters;
    return {
      roles: this.roles.map((r) => r.metrics.snapshot()),
      transport: {
        retransmissionsSent: c.retransmissionsSent, requestRetransmissions: { ...c.requestRetransmissions }, retransmissionsReceived: c.retransmissionsReceived, timeouts: c.timeouts, stray: c.stray,
        parseErrors: { ...this.parseErrors }, unexpectedRequests: this.unexpectedRequests, transportErrors: { ...this.transportErrors },
        ...(this.isWs ? { wsConnect: rawOf(this.wsConnect) } : {}),
      },
      health: { lagP99Ms: 0, lagMaxMs: 0, cpuMs: 0, sendLateP99Ms: 0, sendLateMaxMs: 0, sendsOnTimeShare: 1 },
      failures: [...this.failures],
      conformance: structuredClone(this.conformance.counts),
    };
  }
}
