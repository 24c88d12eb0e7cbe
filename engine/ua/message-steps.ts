// Message-level steps, as SIPp plays a scenario: raw messages sent without
// waiting (`raw` with `wait: false`: a response built from ${last.*}, an ACK,
// a request whose responses later `response` steps take), `response` steps
// waiting for a response to a raw request, a message that does not match an
// optional receive step tried on the receive steps after it (SIPp's optional
// recv), `next`/`onTimeout` jumps of receive steps, `goto` with `if`, `set`
// steps (assignment, arithmetic, comparison), and the raw-text variables
// (scenario/raw-variables.ts): the last message received, the route set kept
// by an `rrs` step. A raw response to a request a recv step took (with
// `reply: []`) goes out through that request's server transaction, so that a
// retransmitted request is answered again and no automatic 100 follows it.

import { findCallId, hostText, parseMessage, type SipMessage } from '../codec/index.js';
import type { CompiledStep, RawStep, RecvStep, ResponseStep, SetStep, Template } from '../scenario/index.js';
import { renderTemplate } from '../scenario/template.js';
import type { ServerTransaction } from '../transaction/index.js';
import { applyCaptures, codeMatches } from './expect.js';
import { AUTH_MARK, DROP_LINE, finishRawText, LEN_MARK } from './raw-text.js';
import { buildAuthorization, pickChallenge, type ClientAuthState } from '../auth/index.js';
import { UasSide } from './uas.js';

type Receive = RecvStep | ResponseStep;

function isReceive(s: CompiledStep | undefined): s is Receive {
  return s !== undefined && (s.kind === 'recv' || s.kind === 'response');
}

export abstract class MessageSteps extends UasSide {
  /** The last message received (SIPp's [last_*]), the route set and Contact an `rrs` step kept. */
  private lastReceived: SipMessage | undefined;
  private routeSet: { routes: string[]; nextUrl: string } | undefined;
  /** Raw text is being rendered: its variables may leave marks that finishRawText resolves. */
  private renderingRaw = false;
  private waitingResponse: ResponseStep | undefined;
  /** The server transaction of the last request a recv step took, for the raw response to it. */
  private lastTx: ServerTransaction | undefined;
  /** The CSeq of the last raw request sent, so that a response to an older one is not taken for its answer. */
  private lastRawCSeq: string | undefined;
  /** Nonce count of ${authentication}. */
  private rawAuth: ClientAuthState | undefined;
  /** A response to the last raw request that came while no response step waited. */
  private earlyResponse: SipMessage | undefined;
  /** The step index whose message was received: its `next` applies. */
  private receivedAt = -1;

  // ---- variables ----

  override lookup(name: string): string | undefined {
    switch (name) {
      case 'authentication':
        return this.renderingRaw ? AUTH_MARK : '';
      case 'len':
        return this.renderingRaw ? LEN_MARK : '0';
      case 'routes': {
        const r = this.routeSet?.routes;
        if (r?.length) return `Route: ${r.join(', ')}`;
        return this.renderingRaw ? DROP_LINE : '';
      }
      case 'next.url':
        return this.routeSet?.nextUrl ?? '';
      case 'remote.tagParam': {
        const m = this.lastReceived;
        const tag = m ? (m.isRequest ? m.from().tag : m.to().tag) : undefined;
        return tag ? `;tag=${tag}` : '';
      }
      case 'call.number':
        return String(this.serial);
      case 'pid':
        return String(process.pid);
      case 'transport':
        return this.rt.local.protocol.toUpperCase();
      case 'local.ipVersion':
        return this.rt.localHostText.startsWith('[') ? '6' : '4';
      case 'target.host':
        if (this.rt.onNewDialog) return hostText(this.socket.dest.host);
        break;
      case 'target.port':
        if (this.rt.onNewDialog) return String(this.socket.dest.port);
        break;
    }
    if (name.startsWith('last.')) {
      const header = name.slice(5);
      const values = this.lastReceived?.getAll(header) ?? [];
      if (values.length === 0) return this.renderingRaw ? DROP_LINE : '';
      return values.map((v) => `${header}: ${v}`).join('\r\n');
    }
    return super.lookup(name);
  }

  /** Whether a variable is set and not empty (SIPp's test). */
  protected isSet(name: string): boolean {
    const v = this.lookup(name);
    return v !== undefined && v !== '';
  }

  protected override renderRaw(t: Template): string {
    this.renderingRaw = true;
    try {
      const text = renderTemplate(t, this);
      return finishRawText(text.includes(AUTH_MARK) ? text.split(AUTH_MARK).join(this.authorizationLine(text)) : text);
    } finally {
      this.renderingRaw = false;
    }
  }

  /**
   * ${authentication}: the credentials for the challenge of the last message received (a 401 or 407), for the
   * request being rendered (its method, Request-URI and body; RFC 3261 §22.2, §22.4), as the UA's user and
   * password; without a challenge, the line goes.
   */
  private authorizationLine(text: string): string {
    const res = this.lastReceived;
    const proxy = res?.status === 407;
    const ch = res && !res.isRequest ? pickChallenge(res.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate')) : undefined;
    const line = /^([A-Z][A-Z0-9_.!%*+`'~-]*) (\S+) SIP\/2\.0/.exec(text);
    if (!ch || !line) return DROP_LINE;
    const sep = text.indexOf('\r\n\r\n');
    const body = sep < 0 ? undefined : Buffer.from(text.slice(sep + 4), 'utf8');
    const value = buildAuthorization(ch, { method: line[1]!, uri: line[2]!, body }, { username: this.me.user, password: this.me.password }, (this.rawAuth ??= { nc: 0 }));
    return `${proxy ? 'Proxy-Authorization' : 'Authorization'}: ${value}`;
  }

  // ---- set ----

  protected applySet(step: SetStep): void {
    const vars = (this.vars ??= new Map());
    for (const o of step.ops) {
      if (o.op === 'assign') vars.set(o.name, renderTemplate(o.value, this));
      else if (o.op === 'compare') {
        const l = renderTemplate(o.left, this);
        const r = renderTemplate(o.right, this);
        const numeric = l.trim() !== '' && r.trim() !== '' && !Number.isNaN(Number(l)) && !Number.isNaN(Number(r));
        const a: number | string = numeric ? Number(l) : l;
        const b: number | string = numeric ? Number(r) : r;
        const yes = o.cmp === '==' ? a === b : o.cmp === '!=' ? a !== b : o.cmp === '<' ? a < b : o.cmp === '<=' ? a <= b : o.cmp === '>' ? a > b : a >= b;
        if (yes) vars.set(o.name, 'true');
        else vars.delete(o.name);
      } else {
        const cur = Number(vars.get(o.name) ?? 0) || 0;
        const arg = Number(renderTemplate(o.value, this)) || 0;
        const v = o.op === 'add' ? cur + arg : o.op === 'subtract' ? cur - arg : o.op === 'multiply' ? cur * arg : arg === 0 ? 0 : cur / arg;
        vars.set(o.name, String(v));
      }
    }
  }

  // ---- raw without wait ----

  protected override doRaw(step: RawStep): void {
    if (step.wait) {
      this.noteRawRequest(step);
      return super.doRaw(step);
    }
    const m = this.metrics(step);
    let text = this.renderRaw(step.text);
    if (!/\r\n\r\n/.test(text)) text = text.replace(/(\r\n)*$/, '\r\n\r\n');
    const callId = findCallId(text);
    if (callId) this.rt.registerCallId(callId, this);
    let data: Buffer = Buffer.from(text, 'utf8');
    const tx = this.lastTx;
    if (text.startsWith('SIP/2.0 ') && tx) {
      const res = this.parseOwnResponse(data, tx);
      if (res) data = tx.respond(res);
      else this.rt.sendStateless(data, this.socket.dest);
    } else {
      if (!text.startsWith('SIP/2.0 ')) this.lastRawCSeq = /^CSeq:\s*([^\r\n]*)/im.exec(text)?.[1]?.trim();
      this.rt.sendStateless(data, this.socket.dest);
    }
    this.record('sent', data);
    // No response comes to it: counted apart from the request balance, as an ACK is (step-metrics.ts).
    m.acks++;
    this.passed(m);
  }

  /** The raw response as a message of `tx`'s request (same Call-ID and CSeq), or undefined to send its bytes as they are. */
  private parseOwnResponse(data: Buffer, tx: ServerTransaction): SipMessage | undefined {
    try {
      const res = parseMessage(data);
      const req = tx.request;
      if (res.callId() !== req.callId() || res.cseq().seq !== req.cseq().seq || res.cseq().method !== req.cseq().method) return undefined;
      return res;
    } catch {
      return undefined;
    }
  }

  private noteRawRequest(step: RawStep): void {
    const first = step.text[0];
    if (typeof first === 'string' && first.startsWith('SIP/2.0 ')) return;
    this.lastRawCSeq = undefined;
  }

  // ---- receiving ----

  protected doResponse(step: ResponseStep): void {
    this.waitingResponse = step;
    // A response that came while no response step waited (during a pause): taken now, as SIPp does.
    const early = this.earlyResponse;
    this.earlyResponse = undefined;
    if (early) return this.takeResponse(early, step);
    this.armStepTimeout(step, () => {
      this.waitingResponse = undefined;
      this.recvTimedOut(step, `no ${step.text} response received within ${step.timeoutMs / 1000}s`);
    });
  }

  /** A receive step's wait ran out: its `onTimeout` label, on if optional, else a timeout failure. */
  protected override recvTimedOut(step: Receive, what: string): void {
    if (step.onTimeout !== undefined) {
      // A path the scenario takes on purpose (SIPp's ontimeout), not a failure: no timeout counted.
      this.clearStepTimer();
      this.pc = step.onTimeout;
      return this.run();
    }
    if (step.optional) return this.next();
    this.timedOut(step, what);
  }

  /** The receive step at or after pc that takes `msg`: through optional ones, as SIPp does; -1 if none. */
  private receiverOf(msg: SipMessage): number {
    const steps = this.role.role.steps;
    for (let j = this.pc; j < steps.length; j++) {
      const s = steps[j]!;
      if (s.kind === 'label') continue;
      if (!isReceive(s)) return -1;
      if (s.kind === 'recv' ? msg.isRequest && msg.method === s.method : !msg.isRequest && codeMatches(s.codes, msg.status)) return j;
      if (!s.optional) return -1;
    }
    return -1;
  }

  /** Moves to receive step j (skipping optional ones before it); its wait starts as the message is handed over. */
  private skipTo(j: number): void {
    if (j === this.pc) return;
    this.clearStepTimer();
    this.waitingResponse = undefined;
    this.pc = j;
    this.gen++;
  }

  private keepRoutes(step: Receive, msg: SipMessage): void {
    if (!step.rrs) return;
    const rr = msg.getAll('Record-Route').flatMap((v) => v.split(/,(?=\s*<)/).map((x) => x.trim()));
    // RFC 3261 §12.1.2: a UAC takes the route set in reverse order; §12.1.1: a UAS in order.
    const contact = msg.getAll('Contact')[0];
    this.routeSet = { routes: msg.isRequest ? rr : rr.reverse(), nextUrl: contact ? (/<([^>]*)>/.exec(contact)?.[1] ?? contact.split(';')[0]!.trim()) : '' };
  }

  /** A request that came before its recv step (kept in the inbox): the step's keys apply to it when it is taken. */
  protected override doRecv(step: RecvStep): void {
    const early = this.inbox?.find((e) => e.req.method === step.method);
    if (early) {
      this.lastReceived = early.req;
      this.keepRoutes(step, early.req);
      this.receivedAt = this.pc;
      if (step.reply.length === 0) this.lastTx = early.tx;
    }
    super.doRecv(step);
  }

  override onRequest(req: SipMessage, tx: ServerTransaction | undefined): void {
    if (!this.done) this.lastReceived = req;
    const cur = this.role.role.steps[this.pc];
    if (!this.done && isReceive(cur)) {
      const j = this.receiverOf(req);
      if (j >= 0) {
        const step = this.role.role.steps[j] as RecvStep;
        if (j !== this.pc) {
          this.skipTo(j);
          this.waitingRecv = step;
        }
        this.keepRoutes(step, req);
        this.receivedAt = j;
        if (step.reply.length === 0) this.lastTx = tx;
        this.rt.registerCallId(req.callId(), this);
      }
    }
    super.onRequest(req, tx);
  }

  override onStrayResponse(res: SipMessage): void {
    const w = this.waitingResponse;
    if (this.done || (this.lastRawCSeq !== undefined && `${res.cseq().seq} ${res.cseq().method}` !== this.lastRawCSeq.replace(/\s+/g, ' '))) {
      return super.onStrayResponse(res);
    }
    if (!w) {
      // Kept for the next response step (the last one only); an answer to a raw step that waits goes there.
      if (this.hasResponseStep()) this.earlyResponse = res;
      return super.onStrayResponse(res);
    }
    this.record('received', res);
    this.takeResponse(res, w);
  }

  private hasResponseStep(): boolean {
    return this.role.role.steps.some((s) => s.kind === 'response');
  }

  private takeResponse(res: SipMessage, w: ResponseStep): void {
    this.lastReceived = res;
    const j = this.receiverOf(res);
    if (j < 0) {
      // A provisional response no step waits for changes nothing (SIPp ignores one it did not list as well).
      if (res.status < 200) return;
      const m = this.metrics(w);
      m.received++;
      return this.stepFailed(w, `expected ${w.text}, got ${res.status}`, `expected ${w.text}, got ${res.status} ${res.reason}`.trim(), `expected ${w.text}, got ${res.status}`);
    }
    const step = this.role.role.steps[j] as ResponseStep;
    this.skipTo(j);
    this.waitingResponse = undefined;
    this.clearStepTimer();
    const m = this.metrics(step);
    m.received++;
    this.keepRoutes(step, res);
    const problem = step.capture.length ? applyCaptures(step.capture, res, (this.vars ??= new Map()), this.rt.regexCache) : undefined;
    if (problem) return this.stepFailed(step, problem.kind, `${res.status} ${problem.text}`, `${res.status} ${problem.kind}`);
    this.receivedAt = this.pc;
    this.passed(m);
  }

  /** After a receive step: its `next` label (when its `if` holds), else the step after it. */
  protected override next(): void {
    const s = this.role.role.steps[this.pc];
    if (isReceive(s) && s.next !== undefined && this.receivedAt === this.pc && (s.nextIf === undefined || this.isSet(s.nextIf))) {
      this.receivedAt = -1;
      this.clearStepTimer();
      this.pc = s.next;
      return this.run();
    }
    this.receivedAt = -1;
    super.next();
  }
}
