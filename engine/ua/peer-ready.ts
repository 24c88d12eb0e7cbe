// The peer-ready rule's bookkeeping (docs/architecture.md, engine/ua): which
// users of called roles have reached their first wait for a request, and the
// callers held until their peer user has. WorkerRuntime decides who is held
// and for how long; this keeps the two tables consistent. KeyTables, not a Set
// and a Map: with caller and callee in one worker a user is ready and forgotten
// per call (collections/key-table.ts).

import { KeyTable } from '../collections/key-table.js';

/** A caller held by the peer-ready rule: started when its peer is ready, or ended without a call. */
export interface HeldCaller {
  go(): void;
  /** `beforeStart`: the reason is said at the caller's first step. */
  abort(reason: string, beforeStart?: boolean): void;
}

export class PeerReadiness {
  /** Users of called roles whose running instance reached its first wait for a request. */
  private readonly ready = new KeyTable<true>();
  /** Callers held until their peer user is ready, by that user. */
  private readonly held = new KeyTable<HeldCaller[]>();

  isReady(user: string): boolean {
    return this.ready.has(user);
  }

  /** `user` is ready: the callers held for it start now. */
  markReady(user: string): void {
    this.ready.set(user, true);
    const waiters = this.held.get(user);
    if (!waiters) return;
    this.held.delete(user);
    for (const w of waiters) w.go();
  }

  /** Its instance ended: the user's next instance must become ready again. */
  forget(user: string): void {
    this.ready.delete(user);
  }

  hold(user: string, caller: HeldCaller): void {
    let list = this.held.get(user);
    if (!list) this.held.set(user, (list = []));
    list.push(caller);
  }

  /** A held caller whose wait ran out: no longer held. */
  release(user: string, caller: HeldCaller): void {
    const list = this.held.get(user);
    const i = list?.indexOf(caller) ?? -1;
    if (i >= 0) list!.splice(i, 1);
    if (list?.length === 0) this.held.delete(user);
  }

  /** Every caller still held, no longer held (the end of the run). */
  takeAll(): HeldCaller[] {
    const all = this.held.valueList().flat();
    this.held.clear();
    return all;
  }
}
