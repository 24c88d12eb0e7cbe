// Plays conformance suites against a server over UDP, one case at a time: sends
// the case's message, waits for the final answer (or its absence), judges it
// against the case's expectation, and then asks the server an OPTIONS to tell
// a server that chose silence from one that crashed (RFC 4475 §1: "a
// compliant element ... remains stable"). After a crash the remaining cases
// are not run, and say so.
//
// Torture messages go out byte for byte but for one change: the transport and
// sent-by of their top Via become this tester's (UDP, its address, rport),
// since RFC 3261 §18.2.2 sends the answer there and the fixtures name hosts
// like 192.0.2.2 that are not us. Each case is sent from a socket of its own:
// several fixtures share a branch, and one sent-by would make the later ones
// look like retransmissions of the first (§17.2.3).

import { randomBytes } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { parseMessage, serializeMessage, type SipMessage } from '../codec/index.js';
import { ConformanceChecker } from '../conformance/index.js';
import { buildAckForNon2xx } from '../transaction/index.js';
import { createTransport, type Endpoint, type Transport } from '../transport/index.js';
import { judge } from './expectation.js';
import type { SuiteCase } from './load.js';

export interface CaseResult {
  suite: string;
  case: SuiteCase;
  /** The final status received; undefined when none came. */
  status?: number;
  reasonPhrase?: string;
  /** Why the case failed; undefined when it passed. */
  problem?: string;
  /** The server had stopped answering before this case. */
  notRun?: boolean;
  ms: number;
  sent?: Buffer;
  received: Buffer[];
}

export interface SuiteRunnerOptions {
  target: Endpoint;
  targetHostText: string;
  localHost: string;
  /** How long to wait for an answer a case needs (default 4 s; an answer ends the wait). */
  answerMs?: number;
  /** How long silence must last to count as "no answer" where no answer is acceptable (default 1 s). */
  silenceMs?: number;
}

/** `res` is undefined for a datagram that did not parse. */
type Waiter = (res: SipMessage | undefined, raw: Buffer) => void;

const OPTIONS_TEMPLATE =
  'OPTIONS sip:${target.host}:${target.port} SIP/2.0\nVia: SIP/2.0/UDP ${local};branch=${branch};rport\nMax-Forwards: 70\n' +
  'From: <sip:sipstorm@${local}>;tag=${tag}\nTo: <sip:${target.host}:${target.port}>\nCall-ID: ${call.id}\nCSeq: 1 OPTIONS\nContent-Length: 0\n';

export class SuiteRunner {
  private checker = new ConformanceChecker();
  /** Messages from the server that no case waited for. */
  unexpected = 0;
  /** Datagrams from the server that did not parse. */
  unparsable = 0;
  private readonly waiters = new Map<string, Waiter>();
  private readonly finished = new Set<string>();
  private anyWaiter: Waiter | undefined;
  private deadAfter: string | undefined;
  private transport!: Transport;
  private local = '';

  private constructor(private readonly opts: SuiteRunnerOptions) {}

  static async open(opts: SuiteRunnerOptions): Promise<SuiteRunner> {
    const r = new SuiteRunner(opts);
    await r.openSocket();
    return r;
  }

  private async openSocket(): Promise<void> {
    this.transport = await createTransport({
      protocol: 'udp',
      host: this.opts.localHost,
      port: 0,
      events: { onMessage: (data) => this.onMessage(data), onError: () => undefined },
    });
    const l = this.transport.local;
    this.local = `${isIPv6(l.host) ? `[${l.host}]` : l.host}:${l.port}`;
  }

  /** The catalog's counts since the last call (one suite's worth). */
  takeCounts(): ConformanceChecker['counts'] {
    const counts = this.checker.counts;
    this.checker = new ConformanceChecker();
    return counts;
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private onMessage(data: Buffer): void {
    let msg: SipMessage;
    try {
      msg = parseMessage(data);
    } catch {
      this.unparsable++;
      this.anyWaiter?.(undefined, data);
      return;
    }
    const callId = msg.get('Call-ID');
    if (!msg.isRequest) {
      const w = callId !== undefined ? this.waiters.get(callId) : undefined;
      if (w) return w(msg, data);
      if (callId !== undefined && this.finished.has(callId)) return; // a retransmitted answer to an earlier case
      if (this.anyWaiter) return this.anyWaiter(msg, data);
    }
    this.unexpected++;
  }

  private vars(): Record<string, string> {
    const id = randomBytes(6).toString('hex');
    return {
      local: this.local,
      'target.host': this.opts.targetHostText,
      'target.port': String(this.opts.target.port),
      'call.id': `conform-${id}@sipstorm`,
      branch: `z9hG4bK-conform-${id}`,
      tag: `t${id}`,
    };
  }

  /** The message a case sends, with this tester's address in it. */
  messageOf(c: SuiteCase): Buffer {
    return c.bytes ? rewriteTopVia(c.bytes, this.local) : this.fill(c.template!);
  }

  /** A template with its line ends made CRLF and its ${...} filled in (`length`: the body's size). */
  private fill(template: string): Buffer {
    const v = this.vars();
    let text = template.replace(/\r?\n/g, '\r\n');
    if (!text.includes('\r\n\r\n')) text += '\r\n';
    const cut = text.indexOf('\r\n\r\n');
    const body = text.slice(cut + 4);
    v.length = String(Buffer.byteLength(body));
    return Buffer.from(text.replace(/\$\{([\w.]+)\}/g, (all, name: string) => v[name] ?? all));
  }

  /** Sends `data` and waits for its final answer, matched by Call-ID (any answer when it has none). */
  private exchange(data: Buffer, waitMs: number): Promise<{ final?: SipMessage; received: Buffer[]; ms: number }> {
    const callId = /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(data.toString('latin1'))?.[1];
    const started = performance.now();
    const received: Buffer[] = [];
    return new Promise((resolve) => {
      const done = (final?: SipMessage) => {
        clearTimeout(timer);
        if (callId !== undefined) {
          this.waiters.delete(callId);
          this.finished.add(callId);
        } else this.anyWaiter = undefined;
        resolve({ final, received, ms: performance.now() - started });
      };
      const timer = setTimeout(() => done(), waitMs);
      const waiter: Waiter = (res, raw) => {
        received.push(raw);
        if (res && res.status >= 200) done(res);
      };
      if (callId !== undefined) this.waiters.set(callId, waiter);
      else this.anyWaiter = waiter;
      this.transport.send(data, this.opts.target);
    });
  }

  /** An OPTIONS the server must answer: is it still there? */
  async alive(): Promise<boolean> {
    const data = this.fill(OPTIONS_TEMPLATE);
    for (let attempt = 0; attempt < 3; attempt++) {
      const { final } = await this.exchange(data, 700);
      if (final) {
        this.checker.response(parseMessage(data), final);
        return true;
      }
    }
    return false;
  }

  async run(suite: string, c: SuiteCase): Promise<CaseResult> {
    if (this.deadAfter) return { suite, case: c, notRun: true, problem: `not run: the server stopped answering after ${this.deadAfter}`, ms: 0, received: [] };
    await this.transport.close();
    await this.openSocket();
    const data = this.messageOf(c);
    const needsAnswer = !c.expect.drop && !c.expect.any;
    const { final, received, ms } = await this.exchange(data, needsAnswer ? (this.opts.answerMs ?? 4000) : (this.opts.silenceMs ?? 1000));
    let sentMsg: SipMessage | undefined;
    try {
      sentMsg = parseMessage(data);
    } catch {
      sentMsg = undefined;
    }
    if (final && sentMsg?.isRequest && sentMsg.method === 'INVITE' && final.status >= 300) {
      // §17.1.1.3: the non-2xx final answer to an INVITE is acknowledged, or the server retransmits it for 32 s.
      this.transport.send(serializeMessage(buildAckForNon2xx(sentMsg, final)), this.opts.target);
    }
    // Cases built here are well-formed: their answers go through the catalog like any other.
    if (final && sentMsg?.isRequest && c.template) this.checker.response(sentMsg, final);
    let problem = judge(c.expect, final?.status);
    if (!problem && final && final.status >= 200) {
      const missing = c.headers.filter((h) => final.get(h) === undefined);
      if (missing.length) problem = `the ${final.status} answer has no ${missing.join(', ')} header`;
    }
    if (!(await this.alive())) {
      this.deadAfter = `${suite}/${c.id}`;
      problem = `${problem ? `${problem}; ` : ''}the server stopped answering OPTIONS after this message`;
    }
    return { suite, case: c, status: final?.status, reasonPhrase: final?.reason, problem, ms, sent: data, received };
  }
}

/** Puts UDP and `local` (with rport) as the transport and sent-by of the first Via, folded lines and compact form included. */
export function rewriteTopVia(msg: Buffer, local: string): Buffer {
  const text = msg.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  if (/^SIP\//.test(head)) return msg; // a response: sent as it is
  const lws = String.raw`[ \t]*(?:\r\n[ \t]+)?`;
  const re = new RegExp(String.raw`(\r\n(?:Via|v)${lws}:${lws}SIP${lws}/${lws}2\.0${lws}/${lws})([A-Za-z]+)(${lws})([^;,\s]+)([^,\r\n]*)`, 'i');
  const m = re.exec(head);
  if (!m) return msg;
  const params = /;\s*rport/i.test(m[5]!) ? m[5]! : `;rport${m[5]}`;
  const out = head.slice(0, m.index) + m[1] + 'UDP' + m[3] + local + params + head.slice(m.index + m[0].length) + text.slice(head.length);
  return Buffer.from(out, 'latin1');
}
