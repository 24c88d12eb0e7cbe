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
import { KeyTable } from '../collections/key-table.js';
import { LingeringAcks, LingeringKeys } from './linger.js';
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
   * the messages already hold, instead of a key string made (and hashed) per request and per response. The tables
   * by branch are KeyTables, not Maps: a client transaction comes and goes within a call (collections/key-table.ts).
   * Server transactions stay in a Map: each is kept for Timer J or H (32 s over UDP), so a busy server holds
   * hundreds of thousands, which V8's own hashing serves faster, and what a Map's old tables keep was alive anyway.
   */
  private readonly clients = new Map<string, KeyTable<ClientTransaction>>();
  private clientTotal = 0;
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly ctx: TransactionContext;
  private readonly clientCtx: ClientTransactionContext;
  /**
   * Timer K (§17.1.2.2): completed non-INVITE client transactions, as hashes of branch and method alone. A final
   * response retransmitted meanwhile is absorbed: a run at 10,000 requests/s keeps tens of thousands of keys here,
   * in typed arrays, not transactions or strings.
   */
  private readonly completed: LingeringKeys;
  /**
   * Timer M (RFC 6026 §8.4): INVITE client transactions in Accepted whose UA has finished the call and handed over
   * its ACK (ClientTransaction.handOverAck), by its branch: a 2xx retransmitted meanwhile gets that ACK again from here,
   * and the call, its request and its transaction are gone at its end rather than 64*T1 later.
   */
  private readonly accepted: LingeringAcks;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.wheel = opts.wheel;
    const reliable = opts.reliable ?? ((d: Endpoint) => d.protocol !== 'udp');
    const base = { send: opts.send, wheel: opts.wheel, timers: this.timers, counters: this.counters, reliable };
    this.ctx = { ...base, remove: (key) => this.servers.delete(key) };
    const now = () => this.wheel.now();
    this.completed = new LingeringKeys(now, this.timers.T4);
    this.accepted = new LingeringAcks(now, 64 * this.timers.T1);
    this.clientCtx = {
      ...base,
      remove: (branch, method) => this.forgetClient(branch, method!),
      linger: (branch, method) => this.completed.add(branch, method),
      lingerAccepted: (branch, ack, dest) => this.accepted.add(branch, ack, dest),
    };
  }

  /**
   * A response to a transaction that is over: true when it is a retransmitted final response (counted; a 2xx to an
   * ACKed INVITE gets its ACK again), false when it matches nothing the layer remembers.
   */
  private absorbed(branch: string, method: string, status: number): boolean {
    if (method === 'INVITE') {
      const acked = this.accepted.get(branch);
      if (!acked) return false;
      // RFC 6026 §8.4: Accepted passes only 2xx on; anything else there is dropped.
      if (status >= 200 && status < 300) {
        this.counters.retransmissionsReceived++;
        this.opts.send(acked.ack, acked.dest);
      }
      return true;
    }
    if (!this.completed.has(branch, method)) return false;
    this.counters.retransmissionsReceived++;
    return true;
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
      if (!byBranch) this.clients.set(method, (byBranch = new KeyTable()));
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
   * A response known only by its top Via branch, CSeq method and status (read off its bytes, codec MessageScan):
   * true when it is the retransmitted final response of a transaction that is over (Timer K, or Timer M after the
   * ACK was handed over), counted and absorbed exactly as receive() would; false when receive() must have it parsed.
   */
  absorbRetransmission(branch: string, cseqMethod: string, status: number): boolean {
    return !this.clientOf(branch, cseqMethod) && this.absorbed(branch, cseqMethod, status);
  }

  /** Dispatches one parsed message. Throws SipParseError when the matching headers are malformed. */
  receive(msg: SipMessage, source: Endpoint): void {
    if (!msg.isRequest) {
      // §17.1.3: branch of the top Via and the CSeq method.
      const branch = msg.topBranch();
      const method = msg.cseq().method;
      const tx = this.clientOf(branch, method);
      if (tx) tx.receiveResponse(msg);
      else if (!this.absorbed(branch, method, msg.status)) {
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
    // A loop, not push(...list): a run against a target that answers nothing can leave more transactions pending than a call takes arguments.
    for (const byBranch of this.clients.values()) for (const tx of byBranch.valueList()) all.push(tx);
    return all;
  }

  /** Terminates every transaction (end of run). */
  clear(): void {
    for (const tx of this.allClients()) tx.terminate();
    for (const tx of [...this.servers.values()]) tx.terminate();
  }
}
