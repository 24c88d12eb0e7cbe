// The connections a listening TCP/TLS transport accepted, and the limits that
// keep slow or silent peers (slowloris) from holding them all: a cap on
// connections in total and per remote address, and a deadline for delivering a
// message. Over a cap the new connection is kept and the least useful open one
// is closed: first those that never delivered a whole message, oldest first,
// then those idle the longest. Decisions (docs/server.md, "Connections"):
//   - a connection must deliver its first whole message within messageTimeoutMs
//     of opening (a TLS handshake included), and any later message within
//     messageTimeoutMs of its first byte, however slowly the bytes trickle in;
//   - a connection that has delivered a message and then goes quiet is not
//     closed for being idle: it may carry a registration (requests to the UA
//     come back over it, RFC 5626 §5) or a call whose BYE comes an hour later.
//     It is closed when the caps need room, the longest idle first.

import { readFileSync } from 'node:fs';
import type net from 'node:net';

export interface ConnectionGuardLimits {
  /** A function: the default reads the open-file limit, done once, when the first connection comes. */
  maxConnections: number | (() => number);
  maxConnectionsPerAddress: number;
  messageTimeoutMs: number;
}

export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 1000;
export const DEFAULT_MESSAGE_TIMEOUT_MS = 20_000; // Kamailio's tcp_msg_read_timeout is 20 s too

/**
 * 10,000 connections, or fewer when the process may not open that many files: the open-file limit less 100 for
 * UDP sockets, outgoing connections and files, so that a full house never makes accept() fail with EMFILE.
 */
export function defaultMaxConnections(): number {
  let limit = Infinity;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) limit = Number(m[1]);
  } catch {
    /* not Linux: the fixed default */
  }
  return Math.max(16, Math.min(10_000, limit - 100));
}

export interface GuardSlot {
  readonly socket: net.Socket;
  readonly address: string;
  /** Has delivered a whole message. */
  proven: boolean;
  /** When the last whole message arrived (accept time before the first). */
  lastMessageAt: number;
  /** A whole message is due by then (0: none is due: a proven connection with nothing buffered). */
  deadline: number;
  /** No longer tracked (closed or shed): late events about it change nothing. */
  gone: boolean;
}

export type ShedReason = 'cap' | 'address-cap' | 'timeout';

const SHED_CODES: Record<ShedReason, string> = {
  cap: 'TRANSPORT_CONNECTION_LIMIT',
  'address-cap': 'TRANSPORT_ADDRESS_LIMIT',
  timeout: 'TRANSPORT_MESSAGE_TIMEOUT',
};

/**
 * The guard of a listening stream transport (TCP, TLS, WebSocket) with the configured limits or their defaults, each
 * shed connection reported once as a counted error: its code and a one-line detail ("tcp 10.0.0.7:51234: no whole
 * message within 20000 ms"); `awaited` names what a timed-out connection failed to deliver.
 */
export function listeningGuard(
  protocol: string,
  limits: { maxConnections?: number; maxConnectionsPerAddress?: number; messageTimeoutMs?: number },
  awaited: string,
  onShed: (slot: GuardSlot, code: string, detail: string) => void,
): ConnectionGuard {
  const messageTimeoutMs = limits.messageTimeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
  return new ConnectionGuard(
    {
      maxConnections: limits.maxConnections ?? defaultMaxConnections,
      maxConnectionsPerAddress: limits.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
      messageTimeoutMs,
    },
    (slot, reason) => {
      const why =
        reason === 'timeout'
          ? `${awaited} within ${messageTimeoutMs} ms`
          : reason === 'cap'
            ? 'closed to make room: connection limit reached'
            : `closed to make room: limit of connections from ${slot.address} reached`;
      onShed(slot, SHED_CODES[reason], `${protocol} ${slot.address}:${slot.socket.remotePort ?? 0}: ${why}`);
    },
  );
}

export class ConnectionGuard {
  /** Never delivered a message, in accept order. */
  private readonly unproven = new Set<GuardSlot>();
  /** Delivered one, least recently active first (re-inserted on every message). */
  private readonly proven = new Set<GuardSlot>();
  private readonly byAddress = new Map<string, Set<GuardSlot>>();
  /** Runs only while connections are tracked: a client transport that accepts none costs no timer. */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: ConnectionGuardLimits,
    private readonly onShed: (slot: GuardSlot, reason: ShedReason) => void,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.unproven.size + this.proven.size;
  }

  /** A new connection: makes room for it under both caps, then tracks it until it closes. */
  admit(socket: net.Socket): GuardSlot {
    const address = socket.remoteAddress ?? '';
    const same = this.byAddress.get(address);
    if (same && same.size >= this.limits.maxConnectionsPerAddress) this.shed(leastUseful(same), 'address-cap');
    if (typeof this.limits.maxConnections === 'function') this.limits.maxConnections = this.limits.maxConnections();
    if (this.size >= this.limits.maxConnections) {
      const victim = first(this.unproven) ?? first(this.proven);
      if (victim) this.shed(victim, 'cap');
    }
    const now = this.now();
    const slot: GuardSlot = { socket, address, proven: false, lastMessageAt: now, deadline: now + this.limits.messageTimeoutMs, gone: false };
    this.unproven.add(slot);
    let set = this.byAddress.get(address);
    if (!set) this.byAddress.set(address, (set = new Set()));
    set.add(slot);
    socket.once('close', () => this.forget(slot));
    if (!this.sweeper) {
      // A coarse sweep: deadlines are tens of seconds by default, a quarter of one is precision enough.
      this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.limits.messageTimeoutMs / 4)));
      this.sweeper.unref();
    }
    return slot;
  }

  /** Bytes arrived: `messages` whole messages were delivered, and `partial` says whether bytes of another wait. */
  progress(slot: GuardSlot, messages: number, partial: boolean): void {
    if (slot.gone) return;
    const now = this.now();
    if (messages > 0) {
      slot.lastMessageAt = now;
      if (!slot.proven) {
        slot.proven = true;
        this.unproven.delete(slot);
      } else this.proven.delete(slot);
      this.proven.add(slot);
      slot.deadline = partial ? now + this.limits.messageTimeoutMs : 0;
    } else if (partial && slot.deadline === 0) slot.deadline = now + this.limits.messageTimeoutMs;
  }

  /** Closes every connection whose message is overdue. */
  sweep(): void {
    const now = this.now();
    for (const set of [this.unproven, this.proven]) {
      for (const slot of set) if (slot.deadline !== 0 && slot.deadline <= now) this.shed(slot, 'timeout');
    }
    if (this.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** The transport closes: no more sweeps, and every accepted socket (handshakes included) is closed. */
  stop(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const set of [this.unproven, this.proven]) for (const slot of set) slot.socket.destroy();
    this.unproven.clear();
    this.proven.clear();
    this.byAddress.clear();
  }

  private shed(slot: GuardSlot, reason: ShedReason): void {
    this.forget(slot);
    this.onShed(slot, reason);
    slot.socket.destroy();
  }

  private forget(slot: GuardSlot): void {
    slot.gone = true;
    this.unproven.delete(slot);
    this.proven.delete(slot);
    const set = this.byAddress.get(slot.address);
    if (!set) return;
    set.delete(slot);
    if (set.size === 0) this.byAddress.delete(slot.address);
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const x of set) return x;
  return undefined;
}

/** The oldest connection of an address that never delivered a message, else its longest idle one. */
function leastUseful(set: Set<GuardSlot>): GuardSlot {
  let best: GuardSlot | undefined;
  for (const s of set) {
    if (!s.proven) return s; // accept order: the first unproven one is the oldest
    if (!best || s.lastMessageAt < best.lastMessageAt) best = s;
  }
  return best!;
}
