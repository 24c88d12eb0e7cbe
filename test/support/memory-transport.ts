// An in-memory Transport (engine/transport's contract) linking the UA runtime
// to a tiny scripted peer inside a test: what the runtime sends is queued,
// `pump()` hands each message to the peer's script and its answers back to
// the runtime, until both sides are quiet. No socket, no wall clock: with the
// timer wheel on a ManualClock, every timing is the test's to decide.

import { parseMessage, serializeMessage, type SipMessage } from '../../engine/codec/index.js';
import type { Endpoint, Transport, TransportCounters, TransportEvents, TransportOptions } from '../../engine/transport/index.js';

/** The peer's script: what it answers (or sends) when a message reaches it. */
export type PeerScript = (msg: SipMessage, link: MemoryLink) => (SipMessage | Buffer)[] | void;

/** One runtime socket in memory and the scripted peer at the other end. */
export class MemoryLink {
  /** Every message the peer received, parsed, in order. */
  readonly received: SipMessage[] = [];
  private readonly outbox: Buffer[] = [];
  private events: TransportEvents | undefined;
  local: Endpoint = { protocol: 'udp', host: '127.0.0.1', port: 0 };

  constructor(
    readonly peer: Endpoint,
    private readonly script: PeerScript,
  ) {}

  /** The factory for RuntimeConfig.openTransport. */
  readonly open = async (opts: TransportOptions): Promise<Transport> => {
    this.events = opts.events;
    this.local = { protocol: opts.protocol, host: opts.host, port: 5099 };
    const link = this;
    const counters: TransportCounters = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, errors: {} };
    return {
      protocol: opts.protocol,
      reliable: opts.protocol !== 'udp',
      local: this.local,
      counters,
      send(data: Buffer, dest: Endpoint): void {
        counters.messagesOut++;
        if (dest.host !== link.peer.host || dest.port !== link.peer.port) throw new Error(`sent to ${dest.host}:${dest.port}, not the peer`);
        link.outbox.push(Buffer.from(data));
      },
      async close(): Promise<void> {},
    };
  };

  /** Delivers everything sent to the peer, and the peer's answers back, until nothing is left in flight. */
  pump(): void {
    while (this.outbox.length > 0) {
      const msg = parseMessage(this.outbox.shift()!);
      this.received.push(msg);
      for (const reply of this.script(msg, this) ?? []) this.toRuntime(reply);
    }
  }

  /** A message from the peer to the runtime (a response, or a request of its own). */
  toRuntime(msg: SipMessage | Buffer): void {
    this.events!.onMessage(Buffer.isBuffer(msg) ? msg : serializeMessage(msg), this.peer);
  }

  /** The methods (requests) and codes (responses) the peer received, in order. */
  seen(): string[] {
    return this.received.map((m) => (m.isRequest ? m.method : String(m.status)));
  }
}
