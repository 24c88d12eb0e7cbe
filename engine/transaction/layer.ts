// The transaction layer of one event loop: owns the client and server
// transaction maps, matches every incoming message to its transaction
// (RFC 3261 §17.1.3 for responses, §17.2.3 for requests, with the RFC 2543
// fallback when the branch lacks the magic cookie), and hands new requests,
// 2xx ACKs and strays to the layer above.

import type { SipMessage } from '../codec/index.js';
import type { TimerWheel } from '../timer/index.js';
import type { Endpoint } from '../transport/index.js';
import { ClientTransaction, type ClientTransactionUser } from './client.js';
import type { ClientTransactionContext, TransactionContext } from './context.js';
import { ServerTransaction } from './server.js';
import { DEFAULT_TIMERS, newTransactionCounters, type TransactionCounters, type TransactionTimers } from './timers.js';

const MAGIC_COOKIE = 'z9hG4bK';

export interface TransactionLayerOptions {
  send(data: Buffer, dest: Endpoint): void;
  wheel: TimerWheel;
  reliable?(dest: Endpoint): boolean;
  timers?: Partial<TransactionTimers>;
  /** A new request (a server transaction was created), or an ACK for a 2xx (tx undefined). */
  onRequest(req: SipMessage, tx: ServerTransaction | undefined, source: Endpoint): void;
  /** A response that matches no client transaction. */
  onStray?(msg: SipMessage, source: Endpoint): void;
  /** Where responses to a request go; by default back to the source. */
  responseDestination?(req: SipMessage, source: Endpoint): Endpoint;
}

export class TransactionLayer {
  readonly counters: TransactionCounters = newTransactionCounters();
  readonly timers: TransactionTimers;
  readonly wheel: TimerWheel;
  /**
   * Client transactions by CSeq method, then by top Via branch (§17.1.3 matches on both): two lookups of strings
   * the messages already hold, instead of a key string made (and hashed) per request and per response.
   */
  private readonly clients = new Map<string, Map<string, ClientTransaction>>();
  private clientTotal = 0;
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly ctx: TransactionContext;
  private readonly clientCtx: ClientTransactionContext;
  /**
   * Timer K (§17.1.2.2) for completed non-INVITE client transactions, as keys in two generations
   * swapped every T4: a key is kept between T4 and 2*T4, and a final response retransmitted meanwhile
   * is absorbed: a run at 10,000 requests/s keeps tens of thousands of short strings here, not transactions.
   */
  private lingering = new Set<string>();
  private lingeringBefore = new Set<string>();
  private lingerSince: number;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.wheel = opts.wheel;
    const reliable = opts.reliable ?? ((d: Endpoint) => d.protocol !== 'udp');
    const base = { send: opts.send, wheel: opts.wheel, timers: this.timers, counters: this.counters, reliable };
    this.ctx = { ...base, remove: (key) => this.servers.delete(key) };
    this.clientCtx = { ...base, remove: (branch, method) => this.forgetClient(branch, method!), linger: (branch, method) => this.linger(`${branch}|${method}`) };
    this.lingerSince = this.wheel.now();
  }

  private linger(key: string): void {
    this.ageLingering();
    this.lingering.add(key);
  }

  private isLingering(key: string): boolean {
    this.ageLingering();
    return this.lingering.has(key) || this.lingeringBefore.has(key);
  }

  private ageLingering(): void {
    const now = this.wheel.now();
    const age = now - this.lingerSince;
    if (age < this.timers.T4) return;
    this.lingeringBefore = age >= 2 * this.timers.T4 ? new Set() : this.lingering;
    this.lingering = new Set();
    this.lingerSince = now;
  }

  get clientCount(): number {
    return this.clientTotal;
  }

  private forgetClient(branch: string, method: string): void {
    if (this.clients.get(method)?.delete(branch)) this.clientTotal--;
  }

  private clientOf(branch: string, method: string): ClientTransaction | undefined {
    return this.clients.get(method)?.get(branch);
  }

  get serverCount(): number {
    return this.servers.size;
  }

  /** Sends a request in a new client transaction. The top Via must carry a unique branch. */
  sendRequest(req: SipMessage, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    const method = req.method === 'ACK' ? 'INVITE' : req.method;
    const branch = req.topBranch();
    const tx = new ClientTransaction(this.clientCtx, branch, req, dest, user, method);
    if (tx.state !== 'terminated') {
      let byBranch = this.clients.get(method);
      if (!byBranch) this.clients.set(method, (byBranch = new Map()));
      const size = byBranch.size;
      byBranch.set(branch, tx);
      this.clientTotal += byBranch.size - size;
    }
    return tx;
  }

  /** Sends a message outside any transaction (ACK for 2xx, stateless responses). */
  sendStateless(data: Buffer, dest: Endpoint): void {
    this.opts.send(data, dest);
  }

  /**
   * A response known only by its top Via branch and CSeq method (read off its bytes, codec MessageScan):
   * true when it is the retransmitted final response of a completed non-INVITE transaction (Timer K),
   * counted and absorbed exactly as receive() would; false when receive() must have it parsed.
   */
  absorbRetransmission(branch: string, cseqMethod: string): boolean {
    if (this.clientOf(branch, cseqMethod) || !this.isLingering(`${branch}|${cseqMethod}`)) return false;
    this.counters.retransmissionsReceived++;
    return true;
  }

  /** Dispatches one parsed message. Throws SipParseError when the matching headers are malformed. */
  receive(msg: SipMessage, source: Endpoint): void {
    if (!msg.isRequest) {
      // §17.1.3: branch of the top Via and the CSeq method.
      const branch = msg.topBranch();
      const method = msg.cseq().method;
      const tx = this.clientOf(branch, method);
      if (tx) tx.receiveResponse(msg);
      else if (this.isLingering(`${branch}|${method}`)) this.counters.retransmissionsReceived++;
      else {
        this.counters.stray++;
        this.opts.onStray?.(msg, source);
      }
      return;
    }
    const key = this.serverKey(msg);
    if (msg.method === 'ACK') {
      // §17.2.3: the ACK for a non-2xx matches the INVITE's transaction; an ACK for 2xx has its own branch.
      const tx = this.servers.get(key);
      if (tx && tx.isInvite && tx.lastStatus >= 300) tx.receiveAck();
      else this.opts.onRequest(msg, undefined, source);
      return;
    }
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission();
      return;
    }
    const dest = this.opts.responseDestination ? this.opts.responseDestination(msg, source) : source;
    const tx = new ServerTransaction(this.ctx, key, msg, dest);
    this.servers.set(key, tx);
    this.opts.onRequest(msg, tx, source);
  }

  /**
   * A connection to `dest` is gone (streams): every client transaction sent over it and still waiting for its
   * final response fails now with the transport error (§17.1.4), not 64*T1 later. Returns how many did.
   */
  connectionLost(dest: Endpoint, code: string, detail: string): number {
    let failed = 0;
    for (const tx of this.allClients()) {
      const d = tx.dest;
      if (d.port !== dest.port || d.host !== dest.host || d.protocol !== dest.protocol || d.localPort !== dest.localPort) continue;
      if (tx.transportFailed(code, detail)) failed++;
    }
    return failed;
  }

  /** The INVITE server transaction a CANCEL refers to (§9.2: same matching, method INVITE). */
  findInviteFor(cancel: SipMessage): ServerTransaction | undefined {
    const key = this.serverKey(cancel, 'INVITE');
    return this.servers.get(key);
  }

  /** §17.2.3 key; the RFC 2543 fallback (§17.2.3, last paragraphs) without the cookie. */
  private serverKey(req: SipMessage, methodOverride?: string): string {
    const via = req.topVia();
    const method = methodOverride ?? (req.method === 'ACK' ? 'INVITE' : req.method);
    const sentBy = `${via.host}:${via.port ?? ''}`;
    if (via.branch && via.branch.startsWith(MAGIC_COOKIE) && via.branch.length > MAGIC_COOKIE.length) {
      return `${via.branch}|${sentBy}|${method}`;
    }
    // RFC 2543: Request-URI, To tag, From tag, Call-ID, CSeq number and top Via. The To tag is
    // left out so that the ACK (which carries the tag of our response) matches its INVITE.
    return `2543|${req.uri}|${req.from().tag ?? ''}|${req.callId()}|${req.cseq().seq}|${req.getAll('Via')[0]}|${method}`;
  }

  /** A copy: terminating a transaction removes it from its map. */
  private allClients(): ClientTransaction[] {
    const all: ClientTransaction[] = [];
    for (const byBranch of this.clients.values()) for (const tx of byBranch.values()) all.push(tx);
    return all;
  }

  /** Terminates every transaction (end of run). */
  clear(): void {
    for (const tx of this.allClients()) tx.terminate();
    for (const tx of [...this.servers.values()]) tx.terminate();
  }
}
