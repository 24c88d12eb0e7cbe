// One run of a scenario by one simulated UA: the interpreter. It walks the
// compiled steps (send, recv, raw, await, pause, loop, goto), builds requests
// from templates, answers digest challenges, keeps the dialog, checks every
// final response against the step's expectation, records latency (service
// time from the actual send, corrected time from the intended start), and
// ends passed or failed with a reason that names the step.

import { buildAuthorization, pickChallenge, type ClientAuthState } from '../auth/index.js';
import {
  createRequest, createResponse, findCallId, newBranch, newCallId, newTag, serializeMessage, type SipMessage,
} from '../codec/index.js';
import type { AwaitStep, CompiledStep, RawStep, RecvStep, SendStep } from '../scenario/index.js';
import { renderTemplate, type Template, type TemplateVars } from '../scenario/index.js';
import type { TimerHandle, TimerTarget } from '../timer/index.js';
import { retransmit2xx, type ClientTransaction, type Retransmission, type ServerTransaction } from '../transaction/index.js';
import { applyCaptures, checkContent, codeMatches } from './expect.js';
import { inDialogRequest, uacDialog, uasDialog, type DialogState } from './dialog.js';
import type { Identity } from './identity.js';
import type { RoleRuntime, UaSocket, WorkerRuntime } from './runtime.js';

const IN_DIALOG_METHODS = new Set(['BYE', 'INFO', 'UPDATE', 'ACK', 'PRACK', 'NOTIFY', 'REFER']);
const NO_CONTACT = new Set(['MESSAGE', 'PUBLISH', 'BYE', 'CANCEL', 'ACK', 'SERVICE', 'INFO', 'PRACK']);
/**
 * Requests answered 200 at once when no step ahead waits for them (SIPp's -aa): in-dialog NOTIFY (a
 * subscription refresh), INFO, UPDATE, and OPTIONS (a keep-alive ping) in or out of a dialog.
 */
const AUTO_ANSWERED = new Set(['NOTIFY', 'INFO', 'UPDATE', 'OPTIONS']);
/** The loop counters of a scenario without loops: one empty array for every instance of it. */
const NO_LOOPS: number[] = [];

export interface InstanceOutcome {
  passed: boolean;
  reason?: string;
  durationMs: number;
  correctedMs: number;
}

interface PendingInvite {
  request: SipMessage;
  tx: ClientTransaction;
  provisional: boolean;
  final?: SipMessage;
  firstSentAt: number;
  /** Resumes a CANCEL waiting for a provisional, or an await step waiting for the final. */
  waiter?: () => void;
}

/** The instance's own timers (TimerTarget kinds). */
const SCENARIO_TIMEOUT = 0;
const PAUSE_OVER = 1;

export class ScenarioInstance implements TemplateVars, TimerTarget {
  readonly callId: string;
  readonly localTag = newTag();
  /** Call-IDs besides its own that the runtime routes to this instance (a callee's calls), so that ending it removes exactly those. */
  otherCallIds: string[] | undefined;
  private pc = 0;
  private done = false;
  private readonly startedAt: number;
  /** Captured variables; made at the first capture (most UAs never capture, and 100,000 empty Maps weigh). */
  private vars: Map<string, string> | undefined;
  private readonly loopCounters: number[];
  private dialog: DialogState | undefined;
  private lastInvite: { request: SipMessage; response?: SipMessage; ackData?: Buffer } | undefined;
  /** After the end: the ACK of the 2xx, all that is kept of the call while its INVITE transaction waits out Timer M. */
  private reAck: Buffer | undefined;
  /** INVITEs sent with `async`, by their id; made at the first one. */
  private pending: Map<string, PendingInvite> | undefined;
  /** Requests that came before a step waited for them; made at the first. */
  private inbox: { req: SipMessage; tx: ServerTransaction | undefined }[] | undefined;
  private waitingRecv: RecvStep | undefined;
  private stepTimer: TimerHandle | undefined;
  private scenarioTimer: TimerHandle | undefined;
  private pauseTimer: TimerHandle | undefined;
  /** Digest state (nonce count), made at the first challenge answered. */
  private auth: ClientAuthState | undefined;
  private retrans2xx: Retransmission | undefined;
  /** Messages recorded in the worker's ladder store (it may have let the oldest go). */
  private recorded = 0;
  /** This instance's key in the worker's ladder store. */
  readonly serial: number;
  private rawWait: { step: RawStep; sentAt: number } | undefined;
  /** The step whose request awaits its final response: counted as an error if the instance ends first. */
  private outstanding: import('../metrics/index.js').StepMetrics | undefined;
  /** The last request sent, to check a response that matched no transaction (a mangled Via). */
  private lastSent: SipMessage | undefined;
  /** Current step generation: callbacks from an earlier step are ignored. */
  private gen = 0;
  iteration = 0;

  constructor(
    private readonly rt: WorkerRuntime,
    private readonly role: RoleRuntime,
    readonly me: Identity,
    readonly peer: Identity | undefined,
    private readonly intendedStart: number,
    /** Where this UA sends from (the worker's socket, or its own with --socket-per-ua) and to. */
    readonly socket: UaSocket,
    private readonly onDone: (o: InstanceOutcome) => void,
  ) {
    this.startedAt = rt.wheel.now();
    this.serial = rt.nextSerial();
    this.callId = newCallId(rt.local.host);
    this.loopCounters = role.role.loopSlots ? new Array(role.role.loopSlots).fill(0) : NO_LOOPS;
  }

  get user(): string {
    return this.me.user;
  }

  start(): void {
    this.rt.registerCallId(this.callId, this);
    this.scenarioTimer = this.rt.wheel.scheduleFor(this.rt.scenario.timeoutMs, this, SCENARIO_TIMEOUT);
    this.run();
  }

  onTimer(kind: number): void {
    if (kind === SCENARIO_TIMEOUT) {
      this.fail(`scenario timeout: not finished within ${this.rt.scenario.timeoutMs / 1000}s (at step ${this.stepLabel(this.role.role.steps[this.pc])})`);
    } else {
      this.pauseTimer = undefined;
      this.run();
    }
  }

  // ---- template variables ----

  lookup(name: string): string | undefined {
    const rt = this.rt;
    switch (name) {
      case 'user':
        return this.me.user;
      case 'password':
        return this.me.password;
      case 'domain':
        return this.me.domain ?? rt.domain;
      case 'aor':
        return `sip:${this.me.user}@${this.me.domain ?? rt.domain}`;
      case 'n':
        return String(this.me.index);
      case 'target.host':
        return rt.targetHostText;
      case 'target.port':
        return String(rt.target.port);
      case 'target.transport':
        return rt.target.protocol;
      case 'target.uri':
        return rt.targetUri;
      case 'local.host':
        return rt.localHostText;
      case 'local.port':
        return String(this.socket.local.port);
      case 'local.transport':
        return rt.local.protocol;
      case 'local.uri':
        return `sip:${this.me.user}@${rt.localHostText}:${this.socket.local.port}`;
      case 'call.id':
        return this.callId;
      case 'branch':
        return newBranch();
      case 'tag':
        return this.localTag;
      case 'cseq':
        return String(this.rt.uaState(this.me.user).cseq);
      case 'random':
        return String(Math.floor(Math.random() * 1e9));
      case 'timestamp':
        return String(Date.now());
      case 'iteration':
        return String(this.iteration);
      case 'peer.user':
        return this.peer?.user;
      case 'peer.aor':
        return this.peer ? `sip:${this.peer.user}@${this.peer.domain ?? rt.domain}` : undefined;
      case 'peer.domain':
        return this.peer?.domain ?? rt.domain;
      case 'peer.n':
        return this.peer ? String(this.peer.index) : undefined;
      default:
        // Captured, then the UA's CSV column, then --var (over the file's `vars`).
        return this.vars?.get(name) ?? this.me.fields[name.toLowerCase()] ?? (rt.scenario.vars && Object.hasOwn(rt.scenario.vars, name) ? rt.scenario.vars[name] : undefined);
    }
  }

  private render(t: Template | undefined): string | undefined {
    return t === undefined ? undefined : renderTemplate(t, this);
  }

  // ---- the interpreter loop ----

  private run(): void {
    const steps = this.role.role.steps;
    // Flow steps run in a loop; steps that wait return and resume through callbacks.
    while (!this.done) {
      if (this.pc >= steps.length) return this.finish();
      const step = steps[this.pc]!;
      this.gen++;
      switch (step.kind) {
        case 'label':
          this.pc++;
          continue;
        case 'goto':
          this.pc = step.target;
          continue;
        case 'loop-enter':
          this.loopCounters[step.slot] = step.count;
          this.pc++;
          continue;
        case 'loop-next':
          if (--this.loopCounters[step.slot]! > 0) this.pc = step.target;
          else this.pc++;
          continue;
        case 'pause': {
          const ms = samplePause(step.pause);
          this.pc++;
          if (ms <= 0) continue;
          this.pauseTimer = this.rt.wheel.scheduleFor(ms, this, PAUSE_OVER);
          return;
        }
        case 'send':
          return this.doSend(step);
        case 'recv':
          return this.doRecv(step);
        case 'raw':
          return this.doRaw(step);
        case 'await':
          return this.doAwait(step);
      }
    }
  }

  private next(): void {
    this.clearStepTimer();
    this.pc++;
    this.run();
  }

  private stepLabel(step: CompiledStep | undefined): string {
    if (!step) return 'end';
    const n = this.role.role.steps.filter((s) => s.metric >= 0).indexOf(step) + 1;
    const name = 'name' in step ? step.name : step.kind;
    return n > 0 ? `${n} '${name}'` : `'${name}'`;
  }

  private armStepTimeout(step: SendStep | RecvStep | RawStep | AwaitStep, onTimeout: () => void): void {
    this.clearStepTimer();
    const gen = this.gen;
    this.stepTimer = this.rt.wheel.schedule(step.timeoutMs, () => {
      this.stepTimer = undefined;
      if (gen === this.gen && !this.done) onTimeout();
    });
  }

  private clearStepTimer(): void {
    this.stepTimer?.cancel();
    this.stepTimer = undefined;
  }

  private metrics(step: { metric: number }) {
    return this.role.metrics.steps[step.metric]!;
  }

  /** Corrected latency adds how late the instance started (coordinated omission). */
  private corrected(serviceMs: number): number {
    return serviceMs + (this.startedAt - this.intendedStart);
  }

  // ---- send ----

  private inDialog(step: SendStep): boolean {
    if (step.dialog !== undefined) return step.dialog && this.dialog !== undefined;
    return this.dialog !== undefined && IN_DIALOG_METHODS.has(step.method);
  }

  private buildRequest(step: SendStep): SipMessage {
    const rt = this.rt;
    const state = rt.uaState(this.me.user);
    const via = rt.via(this.socket.local);
    const contact = NO_CONTACT.has(step.method) ? undefined : `<sip:${this.me.user}@${rt.localHostText}:${this.socket.local.port}${rt.local.protocol === 'udp' ? '' : `;transport=${rt.local.protocol}`}>`;
    let req: SipMessage;
    if (this.inDialog(step)) {
      req = inDialogRequest(this.dialog!, step.method, via, contact);
      state.cseq = Math.max(state.cseq, this.dialog!.localSeq);
    } else {
      const aor = this.lookup('aor')!;
      const defaultUri = step.method === 'REGISTER' ? `sip:${this.lookup('domain')}` : step.method === 'OPTIONS' ? rt.targetUri : aor;
      const to = this.render(step.to) ?? this.render(step.uri) ?? (step.method === 'REGISTER' ? aor : defaultUri);
      const uri = this.render(step.uri) ?? (step.to ? to.replace(/^.*<([^>]*)>.*$/, '$1') : defaultUri);
      req = createRequest({
        method: step.method,
        uri,
        from: `<${aor}>;tag=${this.localTag}`,
        to: to.includes('<') ? to : `<${to}>`,
        callId: this.callId,
        cseq: ++state.cseq,
        via,
        contact,
      });
      if (step.method === 'REGISTER' && !step.headers.some(([n]) => n.toLowerCase() === 'expires')) req.add('Expires', '3600');
    }
    for (const [name, t] of step.headers) {
      const value = renderTemplate(t, this);
      if (['contact', 'to', 'from', 'expires', 'max-forwards', 'call-id', 'm', 'event', 'o'].includes(name.toLowerCase())) req.set(name, value);
      else req.add(name, value);
    }
    const body = this.render(step.body);
    if (body !== undefined) {
      req.body = Buffer.from(body, 'utf8');
      req.set('Content-Type', step.contentType ?? guessContentType(body));
    }
    req.add('User-Agent', 'sipstorm');
    return req;
  }

  private doSend(step: SendStep): void {
    const m = this.metrics(step);
    if (step.method === 'ACK') return this.sendAckStep(step);
    if (step.method === 'CANCEL') return this.sendCancelStep(step);
    const req = this.buildRequest(step);
    const firstSentAt = this.rt.wheel.now();
    m.sent++;
    if (!step.async) this.outstanding = m;
    let challenged = 0;
    const gen = this.gen;
    this.armStepTimeout(step, () => {
      m.timeouts++;
      this.outstanding = undefined;
      this.fail(`step ${this.stepLabel(step)}: no final response within ${step.timeoutMs / 1000}s`);
    });
    const sendIt = (r: SipMessage) => {
      this.lastSent = r;
      let answered = false;
      const tx = this.rt.send(r, this.socket.dest, {
        onResponse: (res) => {
          this.rt.conformance.response(r, res);
          if (!answered && r.method === 'INVITE' && tx.retransmissions === 0) this.rt.conformance.firstInviteResponse(res, this.rt.wheel.now() - tx.sentAt);
          answered = true;
          if (this.done) {
            // RFC 6026: a 2xx retransmitted after the call ended still gets its ACK again.
            if (this.reAck && res.status >= 200 && res.status < 300 && r.method === 'INVITE') this.rt.sendStateless(this.reAck, this.socket.dest);
            return;
          }
          this.record('received', res);
          // Its answer came through the transaction: no stray answer needs the request any more.
          if (res.status >= 200 && this.lastSent === r) this.lastSent = undefined;
          if (step.method === 'INVITE') this.onInviteResponse(r, res, step, tx);
          if (gen !== this.gen && !step.async) return;
          if (res.status < 200) {
            m.code(res.status);
            return;
          }
          if (step.async) return; // the await step judges the final
          if ((res.status === 401 || res.status === 407) && step.auth && challenged < 2 && !codeMatches(step.expect.codes, res.status)) {
            const retry = this.authRetry(r, res, step);
            if (retry) {
              challenged++;
              m.challenges++;
              m.code(res.status);
              sendIt(retry);
              return;
            }
          }
          m.finals++;
          this.outstanding = undefined;
          m.code(res.status);
          const serviceMs = this.rt.wheel.now() - firstSentAt;
          m.latency(serviceMs, this.corrected(serviceMs));
          this.judgeFinal(step, r, res);
        },
        onTimeout: () => {
          if (this.done || gen !== this.gen || step.async) return;
          m.timeouts++;
          this.outstanding = undefined;
          this.fail(`step ${this.stepLabel(step)}: no final response (transaction timeout)`);
        },
      });
      this.record('sent', tx.data);
      if (step.async && step.asyncId) {
        const p = this.pending?.get(step.asyncId);
        if (p) {
          p.request = r;
          p.tx = tx;
        } else (this.pending ??= new Map()).set(step.asyncId, { request: r, tx, provisional: false, firstSentAt });
      }
      return tx;
    };
    sendIt(req);
    if (step.async) {
      // The INVITE goes on in the background: the next step runs now.
      this.next();
    }
  }

  private authRetry(req: SipMessage, res: SipMessage, step: SendStep): SipMessage | undefined {
    const proxy = res.status === 407;
    const ch = pickChallenge(res.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate'));
    if (!ch) return undefined;
    const retry = this.buildRequest(step);
    retry.set('Call-ID', req.callId());
    if (this.inDialog(step)) retry.set('CSeq', `${++this.dialog!.localSeq} ${step.method}`);
    retry.set(proxy ? 'Proxy-Authorization' : 'Authorization', buildAuthorization(ch, { method: retry.method, uri: retry.uri, body: retry.body }, { username: this.me.user, password: this.me.password }, (this.auth ??= { nc: 0 })));
    return retry;
  }

  private judgeFinal(step: SendStep, req: SipMessage, res: SipMessage): void {
    const m = this.metrics(step);
    // Dialogs: a 2xx to SUBSCRIBE creates one (RFC 6665 §4.1.2.1); INVITE's is made in onInviteResponse.
    if (res.status < 300 && step.method === 'SUBSCRIBE' && !this.dialog) this.dialog = uacDialog(req, res);
    const branch = step.on.find((o) => codeMatches(o.codes, res.status));
    if (!codeMatches(step.expect.codes, res.status)) {
      if (branch) {
        m.passed++;
        this.clearStepTimer();
        this.pc = branch.target;
        return this.run();
      }
      if (step.optional) return this.next();
      m.fail(`expected ${step.expect.text}, got ${res.status}`);
      return this.fail(`step ${this.stepLabel(step)}: expected ${step.expect.text}, got ${res.status} ${res.reason}`.trim());
    }
    const content = checkContent(step.expect, res, this.rt.regexCache, this) ?? (step.capture.length ? applyCaptures(step.capture, res, (this.vars ??= new Map()), this.rt.regexCache) : undefined);
    if (content) {
      if (step.optional) return this.next();
      m.fail(content);
      return this.fail(`step ${this.stepLabel(step)}: ${res.status} ${content}`);
    }
    m.passed++;
    if (branch) {
      this.clearStepTimer();
      this.pc = branch.target;
      return this.run();
    }
    this.next();
  }

  /** Every response to an INVITE of ours: dialogs, ACK of 2xx, async bookkeeping. */
  private onInviteResponse(req: SipMessage, res: SipMessage, step: SendStep, tx: ClientTransaction): void {
    const p = step.asyncId ? this.pending?.get(step.asyncId) : undefined;
    if (p && p.tx === tx) {
      if (res.status < 200) p.provisional = true;
      else if (!p.final) {
        p.final = res;
        const m = this.metrics(step);
        m.finals++;
        m.code(res.status);
      }
      const w = p.waiter;
      if (w && (res.status >= 200 || res.status < 200)) {
        p.waiter = undefined;
        w();
      }
    }
    if (res.status < 200 || res.status >= 300) {
      if (res.status >= 300) this.lastInvite = { request: req, response: res };
      return;
    }
    // 2xx (first or retransmitted, RFC 6026): dialog, then ACK now unless the next step sends it.
    if (!this.dialog || this.dialog.remoteTag !== res.to().tag) {
      this.dialog = uacDialog(req, res);
      this.lastInvite = { request: req, response: res };
    }
    const li = this.lastInvite!;
    if (li.ackData) {
      this.rt.sendStateless(li.ackData, this.socket.dest);
      return;
    }
    const steps = this.role.role.steps;
    const nextSend = steps.slice(this.pc + 1).find((s) => s.kind === 'send' || s.kind === 'recv' || s.kind === 'raw' || s.kind === 'await');
    const ackIsNext = !step.async && nextSend?.kind === 'send' && nextSend.method === 'ACK';
    if (!ackIsNext) this.sendAck();
  }

  /** §13.2.2.4: ACK for a 2xx, a new transaction-less request within the dialog. */
  private sendAck(): void {
    const li = this.lastInvite;
    if (!li || !this.dialog) return;
    const ack = inDialogRequest(this.dialog, 'ACK', this.rt.via(this.socket.local), undefined, li.request.cseq().seq);
    for (const name of ['Authorization', 'Proxy-Authorization']) {
      const v = li.request.get(name);
      if (v) ack.add(name, v);
    }
    li.ackData = serializeMessage(ack);
    this.rt.sendStateless(li.ackData, this.socket.dest);
    this.record('sent', li.ackData);
  }

  private sendAckStep(step: SendStep): void {
    // An ACK gets no response (RFC 3261 §17.1.1.3, §13.2.2.4), so it is not a request "sent"
    // in the balance sent = finals + timeouts + errors; the step counts it as passed.
    const m = this.metrics(step);
    const li = this.lastInvite;
    if (li?.response && li.response.status < 300 && !li.ackData) this.sendAck();
    // An ACK for a non-2xx was sent by the INVITE transaction itself (§17.1.1.3).
    m.passed++;
    this.next();
  }

  private sendCancelStep(step: SendStep): void {
    const m = this.metrics(step);
    const p = this.pending ? [...this.pending.values()].pop() : undefined;
    if (!p) return this.fail(`step ${this.stepLabel(step)}: no pending INVITE to cancel`);
    // §9.1: a CANCEL SHOULD NOT be sent before a provisional response arrived.
    if (!p.provisional && !p.final) {
      const gen = this.gen;
      p.waiter = () => {
        if (gen === this.gen && !this.done) this.sendCancelStep(step);
      };
      this.armStepTimeout(step, () => {
        m.timeouts++;
        this.fail(`step ${this.stepLabel(step)}: no provisional response to the INVITE, so no CANCEL could be sent`);
      });
      return;
    }
    const inv = p.request;
    const cancel = createRequest({
      method: 'CANCEL', uri: inv.uri, from: inv.get('From')!, to: inv.get('To')!, callId: inv.callId(),
      cseq: inv.cseq().seq, via: inv.getAll('Via')[0]!,
    });
    for (const r of inv.getAll('Route')) cancel.add('Route', r);
    m.sent++;
    this.outstanding = m;
    const sentAt = this.rt.wheel.now();
    const gen = this.gen;
    this.armStepTimeout(step, () => {
      m.timeouts++;
      this.outstanding = undefined;
      this.fail(`step ${this.stepLabel(step)}: no response to CANCEL within ${step.timeoutMs / 1000}s`);
    });
    const tx = this.rt.send(cancel, this.socket.dest, {
      onResponse: (res) => {
        this.record('received', res);
        this.rt.conformance.response(cancel, res);
        if (this.done || gen !== this.gen || res.status < 200) return;
        m.finals++;
        this.outstanding = undefined;
        m.code(res.status);
        const serviceMs = this.rt.wheel.now() - sentAt;
        m.latency(serviceMs, this.corrected(serviceMs));
        this.judgeFinal(step, cancel, res);
      },
      onTimeout: () => {
        if (this.done || gen !== this.gen) return;
        m.timeouts++;
        this.outstanding = undefined;
        this.fail(`step ${this.stepLabel(step)}: no response to CANCEL (transaction timeout)`);
      },
    });
    this.record('sent', tx.data);
  }

  private doAwait(step: AwaitStep): void {
    const m = this.metrics(step);
    const p = this.pending?.get(step.asyncId);
    if (!p) return this.fail(`step ${this.stepLabel(step)}: the INVITE '${step.asyncId}' was never sent`);
    const judge = () => {
      const res = p.final!;
      this.pending?.delete(step.asyncId);
      m.sent++;
      m.finals++;
      m.code(res.status);
      const serviceMs = this.rt.wheel.now() - p.firstSentAt;
      m.latency(serviceMs, this.corrected(serviceMs));
      if (!codeMatches(step.expect.codes, res.status)) {
        m.fail(`expected ${step.expect.text}, got ${res.status}`);
        return this.fail(`step ${this.stepLabel(step)}: expected ${step.expect.text}, got ${res.status} ${res.reason}`.trim());
      }
      const content = checkContent(step.expect, res, this.rt.regexCache, this);
      if (content) {
        m.fail(content);
        return this.fail(`step ${this.stepLabel(step)}: ${content}`);
      }
      m.passed++;
      this.next();
    };
    if (p.final) return judge();
    const gen = this.gen;
    const wait = () => {
      if (gen !== this.gen || this.done) return;
      if (p.final) judge();
      else p.waiter = wait;
    };
    p.waiter = wait;
    this.armStepTimeout(step, () => {
      m.timeouts++;
      this.fail(`step ${this.stepLabel(step)}: no final response to '${step.asyncId}' within ${step.timeoutMs / 1000}s`);
    });
  }

  // ---- recv ----

  private doRecv(step: RecvStep): void {
    const i = this.inbox?.findIndex((e) => e.req.method === step.method) ?? -1;
    if (i >= 0) {
      const [e] = this.inbox!.splice(i, 1);
      return this.handleRecv(step, e!.req, e!.tx);
    }
    this.waitingRecv = step;
    this.armStepTimeout(step, () => {
      this.waitingRecv = undefined;
      if (step.optional) return this.next();
      this.metrics(step).timeouts++;
      this.fail(`step ${this.stepLabel(step)}: no ${step.method} received within ${step.timeoutMs / 1000}s`);
    });
  }

  /** A request for this instance, from the runtime's routing. */
  onRequest(req: SipMessage, tx: ServerTransaction | undefined): void {
    this.record('received', req);
    this.rt.conformance.request(req);
    if (this.done) return;
    if (req.method === 'ACK') {
      this.retrans2xx?.stop();
      this.retrans2xx = undefined;
    }
    const w = this.waitingRecv;
    if (w && w.method === req.method) {
      this.waitingRecv = undefined;
      this.clearStepTimer();
      return this.handleRecv(w, req, tx);
    }
    if (req.method === 'ACK') return; // an ACK nobody waits for ends the 2xx retransmission, that is all
    if (tx && this.autoAnswers(req)) return this.autoAnswer(req, tx);
    (this.inbox ??= []).push({ req, tx });
  }

  /** Whether `req` gets an automatic 200: its kind is answered so, and no recv step from here on waits for its method. */
  private autoAnswers(req: SipMessage): boolean {
    if (!this.rt.scenario.autoAnswer || !AUTO_ANSWERED.has(req.method)) return false;
    if (req.method !== 'OPTIONS' && req.to().tag === undefined) return false;
    return !this.role.role.recvAhead?.[this.pc]?.includes(req.method);
  }

  /** 200 at once, so the server stops retransmitting; counted as an unexpected request. */
  private autoAnswer(req: SipMessage, tx: ServerTransaction): void {
    this.rt.unexpectedRequests++;
    if (this.dialog && req.to().tag === this.dialog.localTag) this.dialog.remoteSeq = Math.max(this.dialog.remoteSeq, req.cseq().seq);
    this.record('sent', tx.respond(createResponse(req, 200, undefined, req.to().tag ?? this.localTag)));
  }

  private handleRecv(step: RecvStep, req: SipMessage, tx: ServerTransaction | undefined): void {
    const m = this.metrics(step);
    m.received++;
    if (req.method === 'INVITE' || req.method === 'MESSAGE') this.rt.registerCallId(req.callId(), this);
    if (this.dialog && req.to().tag === this.dialog.localTag) {
      // §12.2.2: requests within the dialog must have a higher CSeq than the last.
      const seq = req.cseq().seq;
      if (seq <= this.dialog.remoteSeq && req.method !== 'ACK') {
        if (tx) this.answer(tx, req, 500, step);
        m.fail('lower CSeq within the dialog');
        return this.fail(`step ${this.stepLabel(step)}: ${req.method} with CSeq ${seq} not above ${this.dialog.remoteSeq} in the dialog (RFC 3261 §12.2.2)`);
      }
      this.dialog.remoteSeq = seq;
    }
    if (!this.dialog && req.method === 'NOTIFY') {
      // A NOTIFY may arrive before the 200 to SUBSCRIBE (RFC 6665 §4.1.2.4): it makes the dialog.
      this.dialog = { ...uasDialog(req, this.localTag), localSeq: this.rt.uaState(this.me.user).cseq };
    }
    const problem = checkContent(step.expect, req, this.rt.regexCache, this) ?? (step.capture.length ? applyCaptures(step.capture, req, (this.vars ??= new Map()), this.rt.regexCache) : undefined);
    if (tx) for (const code of step.reply) this.answer(tx, req, code, step);
    if (problem) {
      m.fail(problem);
      return this.fail(`step ${this.stepLabel(step)}: ${req.method} ${problem}`);
    }
    m.passed++;
    this.next();
  }

  private answer(tx: ServerTransaction, req: SipMessage, code: number, step: RecvStep): void {
    const toTag = req.to().tag ?? this.localTag;
    const res = createResponse(req, code, undefined, code > 100 ? toTag : undefined);
    const rt = this.rt;
    if ((req.method === 'INVITE' || req.method === 'SUBSCRIBE') && code > 100 && code < 300) {
      // RFC 3261 §12.1.1: a dialog-creating response copies the Record-Route of the request.
      for (const rr of req.getAll('Record-Route')) res.add('Record-Route', rr);
    }
    if (req.method === 'INVITE' && code > 100 && code < 300) {
      res.add('Contact', `<sip:${this.me.user}@${rt.localHostText}:${this.socket.local.port}>`);
      if (!this.dialog) this.dialog = { ...uasDialog(req, toTag), localSeq: rt.uaState(this.me.user).cseq };
    }
    for (const [name, t] of step.replyHeaders) res.add(name, renderTemplate(t, this));
    if (code >= 200) {
      const body = this.render(step.replyBody) ?? (req.method === 'INVITE' && code < 300 ? sdp(rt.localHostText) : undefined);
      if (body !== undefined) {
        res.body = Buffer.from(body, 'utf8');
        res.set('Content-Type', step.replyContentType ?? guessContentType(body));
      }
    }
    this.record('sent', tx.respond(res));
    if (req.method === 'INVITE' && code >= 200 && code < 300 && rt.local.protocol === 'udp') {
      // §13.3.1.4: retransmit the 2xx until the ACK.
      this.retrans2xx?.stop();
      this.retrans2xx = retransmit2xx({
        wheel: rt.wheel, timers: rt.layer.timers, counters: rt.layer.counters,
        resend: () => tx.respond(res),
        onGiveUp: () => (this.retrans2xx = undefined),
      });
    }
  }

  // ---- raw ----

  private doRaw(step: RawStep): void {
    const m = this.metrics(step);
    let text = renderTemplate(step.text, this);
    if (!text.endsWith('\r\n\r\n') && !/\r\n\r\n[\s\S]+$/.test(text)) text = text.replace(/(\r\n)*$/, '\r\n\r\n');
    const data = Buffer.from(text, 'utf8');
    const callId = findCallId(text);
    if (callId) this.rt.registerCallId(callId, this);
    m.sent++;
    this.outstanding = m;
    this.rawWait = { step, sentAt: this.rt.wheel.now() };
    this.rt.sendStateless(data, this.socket.dest);
    this.record('sent', data);
    this.armStepTimeout(step, () => {
      this.rawWait = undefined;
      m.timeouts++;
      this.outstanding = undefined;
      if (step.optional) return this.next();
      this.fail(`step ${this.stepLabel(step)}: no response within ${step.timeoutMs / 1000}s`);
    });
  }

  /** A response matching no transaction: for raw steps, the answer; for INVITEs, a retransmitted 2xx. */
  onStrayResponse(res: SipMessage): void {
    this.record('received', res);
    const sent = this.lastSent;
    if (sent && res.cseq().seq === sent.cseq().seq && res.cseq().method === sent.method) this.rt.conformance.response(sent, res);
    if (this.done) return;
    if (res.cseq().method === 'INVITE' && res.status >= 200 && res.status < 300 && this.lastInvite?.ackData) {
      this.rt.sendStateless(this.lastInvite.ackData, this.socket.dest);
      return;
    }
    const w = this.rawWait;
    if (!w || res.status < 200) return;
    this.rawWait = undefined;
    const m = this.metrics(w.step);
    m.finals++;
    this.outstanding = undefined;
    m.code(res.status);
    const serviceMs = this.rt.wheel.now() - w.sentAt;
    m.latency(serviceMs, this.corrected(serviceMs));
    if (!codeMatches(w.step.expect.codes, res.status)) {
      if (w.step.optional) return this.next();
      m.fail(`expected ${w.step.expect.text}, got ${res.status}`);
      return this.fail(`step ${this.stepLabel(w.step)}: expected ${w.step.expect.text}, got ${res.status} ${res.reason}`.trim());
    }
    m.passed++;
    this.next();
  }

  // ---- end ----

  private record(dir: 'sent' | 'received', data: Buffer | SipMessage): void {
    this.recorded++;
    this.rt.ladders.add(this.serial, this.rt.wheel.now() - this.startedAt, dir, data);
  }

  private fail(reason: string): void {
    this.finish(reason);
  }

  private finish(reason?: string): void {
    if (this.done) return;
    this.done = true;
    this.gen++;
    this.clearStepTimer();
    this.scenarioTimer?.cancel();
    this.pauseTimer?.cancel();
    this.retrans2xx?.stop();
    if (this.outstanding) this.outstanding.errors++;
    this.outstanding = undefined;
    for (const [id, p] of this.pending ?? []) {
      if (!p.final) {
        const slot = this.role.role.steps.find((st) => st.kind === 'send' && st.asyncId === id);
        if (slot) this.metrics(slot).errors++;
      }
    }
    for (const { req, tx } of this.inbox ?? []) this.rt.answerUnexpected(req, tx);
    this.inbox = undefined;
    this.rt.instanceEnded(this);
    const now = this.rt.wheel.now();
    const durationMs = now - this.startedAt;
    if (reason !== undefined) this.rt.sampleFailure(this.role, this, reason, this.recorded);
    // Transactions in their final states keep this object reachable for up to 64*T1 (to re-ACK a
    // retransmitted 2xx): let go of the messages now so that a finished call costs little memory.
    this.pending = undefined;
    this.vars = undefined;
    this.lastSent = undefined;
    this.reAck = this.lastInvite?.ackData;
    this.lastInvite = undefined;
    this.dialog = undefined;
    const outcome = { passed: reason === undefined, reason, durationMs, correctedMs: now - this.intendedStart };
    this.role.metrics.instanceDone(outcome.passed, durationMs, outcome.correctedMs, reason?.replace(/^step /, '').slice(0, 200));
    this.onDone(outcome);
  }

  /** Stops at once (end of run): counts as failed only if `reason` is given. */
  abort(reason: string): void {
    this.fail(reason);
  }
}

function samplePause(p: import('../scenario/index.js').PauseSpec): number {
  switch (p.type) {
    case 'fixed':
      return p.ms;
    case 'uniform':
      return p.min + Math.random() * (p.max - p.min);
    case 'normal': {
      // Box-Muller; negative samples are cut at zero.
      const u = 1 - Math.random();
      const v = Math.random();
      return Math.max(0, p.mean + p.stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    }
    case 'exponential':
      return -p.mean * Math.log(1 - Math.random());
  }
}

function guessContentType(body: string): string {
  if (/^v=0/.test(body)) return 'application/sdp';
  if (/<presence\b/.test(body)) return 'application/pidf+xml';
  return 'text/plain';
}

function sdp(host: string): string {
  const ip = host.includes(':') ? `IP6 ${host.replace(/^\[|\]$/g, '')}` : `IP4 ${host}`;
  return `v=0\r\no=sipstorm 1 1 IN ${ip}\r\ns=sipstorm\r\nc=IN ${ip}\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
}
