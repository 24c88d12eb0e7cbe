// A worker's runtime, its third layer: what comes in. Every datagram is read
// (one scan of its bytes, or the parser), handed to the transaction layer, and
// a request no transaction keeps is routed to the instance it belongs to: by
// Call-ID and tag, or by the user part of the Request-URI for a new INVITE to
// a callee; --listen starts an instance for a new caller. A request no
// instance wants is counted and answered as a UA would; parse errors counted.

import { createResponse, MessageScan, parseMessage, SipParseError, type SipMessage } from '../codec/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import { isStreamProtocol, type Endpoint } from '../transport/index.js';
import { RuntimeInstances } from './runtime-instances.js';

export abstract class RuntimeIncoming extends RuntimeInstances {
  /** Reused for every datagram received: the index of the last one. */
  private readonly scan = new MessageScan();
  readonly parseErrors: Record<string, number> = {};
  unexpectedRequests = 0;

  protected onData(data: Buffer, source: Endpoint): void {
    let msg: SipMessage;
    try {
      // A datagram is read by one scan of its bytes (codec/scan.ts); what the scan cannot read, the parser does.
      if (source.protocol === 'udp' && this.scan.scan(data) === 'ok') {
        // A retransmitted final response of a finished transaction is counted without making a message.
        if (!this.scan.isRequest && this.layer.absorbRetransmission(this.scan.branch, this.scan.cseqMethod, this.scan.status)) {
          this.wheel.poll();
          return;
        }
        msg = this.scan.toMessage();
      } else msg = parseMessage(data, { stream: isStreamProtocol(source.protocol) });
    } catch (err) {
      const code = err instanceof SipParseError ? err.code : 'SIP_PARSE';
      this.parseErrors[code] = (this.parseErrors[code] ?? 0) + 1;
      this.wheel.poll();
      return;
    }
    try {
      this.layer.receive(msg, source);
    } catch (err) {
      const code = err instanceof SipParseError ? err.code : 'UA_INTERNAL';
      this.parseErrors[code] = (this.parseErrors[code] ?? 0) + 1;
      if (!(err instanceof SipParseError)) throw err;
    }
    // Arrivals and retransmissions due by now go out at once rather than at the Node timer's next millisecond.
    this.wheel.poll();
  }

  protected onRequest(req: SipMessage, tx: ServerTransaction | undefined, source: Endpoint): void {
    const callId = req.callId();
    const tag = req.to().tag;
    let inst = tag ? this.calls.findTagged(callId, tag) : undefined;
    if (!inst && !tag && req.method !== 'ACK' && req.method !== 'CANCEL' && !this.onNewDialog) {
      // A new request to one of our UAs (an INVITE to a callee): the user part of the Request-URI.
      const user = /^sips?:([^@;]+)@/.exec(req.uri)?.[1];
      if (user) inst = this.byUser.get(user);
    }
    inst ??= this.calls.find(callId);
    if (inst) return inst.onRequest(req, tx);
    // --listen: a new dialog from a caller starts an instance of its own; one that comes between the bind and the
    // start of the run waits for the start (a few, bounded: the rest are answered as unexpected). An OPTIONS is answered at once (a caller may ping the address to know it is bound).
    if (!tag && this.onNewDialog?.(req, source)) return this.calls.find(callId)!.onRequest(req, tx);
    if (!tag && this.early && this.early.length < 1000 && req.method !== 'OPTIONS') {
      this.early.push({ req, tx, source });
      return;
    }
    this.answerUnexpected(req, tx);
  }

  /** --listen (engine/load/runner.ts): whether a new request from `source` started an instance (routed to by its Call-ID). */
  onNewDialog: ((req: SipMessage, source: Endpoint) => boolean) | undefined;
  /** --listen: new requests that came before the run started. */
  protected early: { req: SipMessage; tx: ServerTransaction | undefined; source: Endpoint }[] | undefined;

  /** --listen: from now on new requests start instances through `accept`; those that came early go first. */
  listenFor(accept: ((req: SipMessage, source: Endpoint) => boolean) | undefined): void {
    this.onNewDialog = accept;
    const early = this.early ?? [];
    this.early = undefined;
    for (const e of early) this.onRequest(e.req, e.tx, e.source);
  }


  /** A request no instance wants: counted, and answered as a UA would. */
  answerUnexpected(req: SipMessage, tx: ServerTransaction | undefined): void {
    this.unexpectedRequests++;
    this.conformance.request(req);
    if (!tx || req.method === 'ACK') return;
    const status = req.method === 'OPTIONS' ? 200 : req.to().tag ? 481 : req.method === 'INVITE' ? 480 : 481;
    tx.respond(createResponse(req, status, undefined, status > 100 ? 'unexpected' : undefined));
  }

  protected onStray(msg: SipMessage): void {
    const inst = this.calls.find(msg.callId());
    if (inst) inst.onStrayResponse(msg);
  }
}
