// Which running instance a request or stray response belongs to, by Call-ID.
// Two instances of one worker may share a Call-ID (caller and callee of the
// same call), told apart by their local tag (the To tag of a request to them).
// One table entry per Call-ID, holding the instance itself in the usual case:
// 100,000 idle UAs should not each cost a composite "callId|tag" key string.

import { KeyTable } from '../collections/key-table.js';

export interface Routed {
  readonly localTag: string;
}

export class CallRoutes<T extends Routed> {
  /** A KeyTable, not a Map: a route is added and removed per call (collections/key-table.ts). */
  private readonly byCallId = new KeyTable<T | T[]>();

  /** Routes `callId` to `inst`; the latest routed wins a lookup without a matching tag. */
  add(callId: string, inst: T): void {
    const v = this.byCallId.get(callId);
    if (v === undefined) this.byCallId.set(callId, inst);
    else if (Array.isArray(v)) {
      const i = v.indexOf(inst);
      if (i >= 0) v.splice(i, 1);
      v.push(inst);
    } else if (v !== inst) this.byCallId.set(callId, [v, inst]);
  }

  remove(callId: string, inst: T): void {
    const v = this.byCallId.get(callId);
    if (v === inst) this.byCallId.delete(callId);
    else if (Array.isArray(v)) {
      const i = v.indexOf(inst);
      if (i >= 0) v.splice(i, 1);
      if (v.length === 1) this.byCallId.set(callId, v[0]!);
    }
  }

  /** The instance whose local tag is `tag`, if given and routed; else the latest routed for the Call-ID. */
  find(callId: string, tag?: string): T | undefined {
    const v = this.byCallId.get(callId);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return v;
    return (tag !== undefined ? v.find((i) => i.localTag === tag) : undefined) ?? v[v.length - 1];
  }

  /** Only the instance whose local tag is `tag`. */
  findTagged(callId: string, tag: string): T | undefined {
    const v = this.byCallId.get(callId);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return v.localTag === tag ? v : undefined;
    return v.find((i) => i.localTag === tag);
  }
}
