// A worker's runtime, its second layer: the scenario instances it runs. It
// starts them (held back by the peer-ready rule of peer-ready.ts until their
// peer UA is ready, or once the UA's own socket is open; --listen: one per
// caller that came), keeps what lasts of a UA across its iterations, routes a
// Call-ID to its instance (CallRoutes) and aborts what still runs at the end.

import type { Identity } from './identity.js';
import { ScenarioInstance } from './instance.js';
import type { Endpoint } from '../transport/index.js';
import type { SipMessage } from '../codec/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { HostedInstance, InstanceOutcome, RoleRuntime, UaSocket, UaState } from './ua-host.js';
import type { LadderStore } from './ladder-store.js';
import { CallRoutes } from './call-routes.js';
import { PeerReadiness, type HeldCaller } from './peer-ready.js';
import { RuntimeSockets } from './runtime-sockets.js';
import { KeyTable, SlotSet } from '../collections/key-table.js';

export abstract class RuntimeInstances extends RuntimeSockets {
  protected readonly calls = new CallRoutes<HostedInstance>();
  // Tables that churn at the call rate: KeyTable and SlotSet, not Map and Set (collections/key-table.ts says why).
  protected readonly byUser = new KeyTable<HostedInstance>();
  private readonly uaStates = new KeyTable<UaState>();
  private serials = 0;
  private readonly running = new SlotSet<ScenarioInstance>();
  /** The peer-ready rule: users ready, callers held for them. */
  private readonly peers = new PeerReadiness();
  /** Does this worker ever start user `userIndex` of role `roleIndex`? Set by the load runner; a peer elsewhere is not waited for. */
  servesUser: (roleIndex: number, userIndex: number) => boolean = () => true;
  /** How many users each role cycles through (--users included), set by the load runner: a caller's peer is the peer role's user at the same offset. */
  userCounts: (number | undefined)[] = [];

  // The rest of UaHost, which an instance is made with, comes from the layers above (runtime-incoming.ts, runtime.ts).
  abstract readonly ladders: LadderStore;
  abstract unexpectedRequests: number;
  abstract sampleFailure(role: RoleRuntime, inst: HostedInstance, reason: string, recorded: number): void;
  abstract answerUnexpected(req: SipMessage, tx: ServerTransaction | undefined): void;

  uaState(user: string): UaState {
    let s = this.uaStates.get(user);
    if (!s) this.uaStates.set(user, (s = { cseq: 0 }));
    return s;
  }

  /** Requests and stray responses with this Call-ID go to `inst` (CallRoutes tells a caller and callee of one worker apart by tag). */
  registerCallId(callId: string, inst: HostedInstance): void {
    this.calls.add(callId, inst);
    if (callId !== inst.callId && !inst.otherCallIds?.includes(callId)) (inst.otherCallIds ??= []).push(callId);
  }

  instanceEnded(inst: HostedInstance): void {
    this.running.delete(inst as ScenarioInstance);
    this.calls.remove(inst.callId, inst);
    for (const callId of inst.otherCallIds ?? []) this.calls.remove(callId, inst);
    if (this.byUser.get(inst.user) === inst) {
      this.byUser.delete(inst.user);
      this.peers.forget(inst.user);
    }
    if (this.roles[inst.roleIndex]?.usersPlayOnce) this.uaStates.delete(inst.user);
  }

  /**
   * An instance reached a step that waits for a request: if its role is called by another, its user is ready
   * and the callers held for it start now.
   */
  instanceWaiting(inst: HostedInstance, role: RoleRuntime): void {
    if (!role.called || this.peers.isReady(inst.user) || this.byUser.get(inst.user) !== inst) return;
    this.peers.markReady(inst.user);
  }

  /** A key per instance for the ladder store. */
  nextSerial(): number {
    return ++this.serials;
  }

  identityOf(role: RoleRuntime, index: number): Identity {
    return role.identities.get(index);
  }

  startInstance(roleIndex: number, userIndex: number, intendedStart: number, done: (o: InstanceOutcome) => void, arrival = 0): void {
    const role = this.roles[roleIndex]!;
    const me = this.identityOf(role, userIndex);
    let peer: Identity | undefined;
    if (role.peer) {
      const offset = userIndex - role.role.users.first;
      const count = this.userCounts[role.peer.index] ?? role.peer.role.users.count ?? role.peer.role.load.total ?? 1;
      peer = this.identityOf(role.peer, role.peer.role.users.first + (((offset % count) + count) % count));
    }
    role.metrics.started++;
    role.metrics.running++;
    const peerRole = role.peer;
    if (peer && peerRole?.called && !this.peers.isReady(peer.user) && this.servesUser(peerRole.index, peer.index)) {
      // The peer-ready rule: a caller starts once its peer reached its first wait for a request (it registered,
      // say), so that its INVITE never meets a stale contact. The wait counts in the corrected latency (the
      // intended start stays) and is bounded by the scenario timeout.
      const waitMs = this.scenario.timeoutMs;
      const held: HeldCaller = {
        go: () => {
          timer.cancel();
          this.launchInstance(role, me, peer, intendedStart, done, arrival);
        },
        abort: (reason, beforeStart) => {
          timer.cancel();
          // Never started: nothing is routed to it, it only ends failed with the reason.
          const inst = new ScenarioInstance(this, role, me, peer, intendedStart, this.shared, done);
          this.running.add(inst);
          if (beforeStart) inst.abortBeforeStart(reason);
          else inst.abort(reason);
        },
      };
      const timer = this.wheel.schedule(waitMs, () => {
        this.peers.release(peer.user, held);
        held.abort(`not started: its peer ${peer.user} (role ${peerRole.role.name}) was not ready within ${waitMs / 1000}s (it never reached a step that waits for a request)`, true);
      });
      this.peers.hold(peer.user, held);
      return;
    }
    this.launchInstance(role, me, peer, intendedStart, done, arrival);
  }

  private launchInstance(role: RoleRuntime, me: Identity, peer: Identity | undefined, intendedStart: number, done: (o: InstanceOutcome) => void, arrival: number): void {
    const socket = this.socketOf(me.user);
    if (!(socket instanceof Promise)) return this.newInstance(role, me, peer, intendedStart, socket, done, arrival).start();
    // A UA's first call waits for its socket to be bound; the wait is part of how late it started (corrected latency).
    socket.then(
      (s) => this.newInstance(role, me, peer, intendedStart, s, done, arrival).start(),
      (err: NodeJS.ErrnoException) => {
        const code = `SOCKET_${err.code ?? 'OPEN'}`;
        this.transportErrors[code] = (this.transportErrors[code] ?? 0) + 1;
        this.newInstance(role, me, peer, intendedStart, this.shared, done).abort(`could not open the UA's own socket: ${code}`);
      },
    );
  }

  /** A method, not a closure in startInstance: an idle instance should keep no context of how it was started alive. */
  private newInstance(role: RoleRuntime, me: Identity, peer: Identity | undefined, intendedStart: number, socket: UaSocket, done: (o: InstanceOutcome) => void, arrival = 0): ScenarioInstance {
    const inst = new ScenarioInstance(this, role, me, peer, intendedStart, socket, done);
    inst.arrival = arrival;
    this.running.add(inst);
    this.byUser.set(me.user, inst);
    return inst;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Ends every running instance now, as failed ("stopped at end of run"), so counts balance. */
  abortAll(reason: string): void {
    // Callers still held for their peer end too, without sending anything.
    for (const h of this.peers.takeAll()) h.abort(reason);
    for (const inst of this.running.list()) inst.abort(reason);
  }

  /** --listen: an instance for a caller at `source`, its Call-ID routed to it; it starts at once and waits for the request. */
  startListening(roleIndex: number, userIndex: number, callId: string, source: Endpoint, done: (o: InstanceOutcome) => void): void {
    const role = this.roles[roleIndex]!;
    role.metrics.started++;
    role.metrics.running++;
    const inst = new ScenarioInstance(this, role, this.identityOf(role, userIndex), undefined, this.wheel.now(), { local: this.local, dest: source }, done);
    this.running.add(inst);
    this.registerCallId(callId, inst);
    inst.start();
  }
}
