// Plays conformance suites against a server over UDP, TCP, TLS or WS (the
// target's transport), one case at a time, each on the UA core: the case is
// compiled into a program (case-program.ts) and played by a ScenarioInstance
// on a host of its own (case-host.ts: a socket or connection per case, its
// transaction layer, the suite run's one timer wheel); the core sends the
// case's messages, waits for the final answer (or its absence) and judges it
// against the case's expectation (engine/ua/case-steps.ts). After each case
// an OPTIONS, a one-step program on the same core, tells a server that chose
// silence from one that crashed (RFC 4475 §1: "a compliant element ...
// remains stable"). After a crash the remaining cases are not run, and say so.
//
// Torture messages go out byte for byte but for their top Via and, with
// --domain, their Request-URI and To hosts (rewrite.ts); templated requests
// are filled in with the case's variables (the scenario's template syntax).
// Over TCP and TLS each case (and the OPTIONS after it) has a connection of
// its own; cases that test what only a datagram has are not applicable
// (SuiteCase.datagramOnly).

import { randomBytes, randomInt } from 'node:crypto';
import { ConformanceChecker } from '../conformance/index.js';
import type { CompiledScenario } from '../scenario/index.js';
import { TimerWheel } from '../timer/index.js';
import type { Endpoint, TlsOptions, Transport, TransportOptions, WsOptions } from '../transport/index.js';
import { redact } from '../ua/redact.js';
import { CaseHost, type CasePlayed } from './case-host.js';
import { caseProgram, livenessProgram } from './case-program.js';
import type { SuiteCase } from './load.js';

export interface LadderEntry {
  /** Milliseconds since the case began. */
  t: number;
  dir: 'sent' | 'received';
  data: Buffer;
}

export interface CaseResult {
  suite: string;
  case: SuiteCase;
  /** The last final status received; undefined when none came. */
  status?: number;
  reasonPhrase?: string;
  /** Why the case failed; undefined when it passed. */
  problem?: string;
  /** The server had stopped answering before this case. */
  notRun?: boolean;
  /** Why the case does not apply to this server (e.g. it offers no SHA-256 challenge); it neither passed nor failed. */
  notApplicable?: string;
  ms: number;
  ladder: LadderEntry[];
}

export interface SuiteRunnerOptions {
  target: Endpoint;
  targetHostText: string;
  localHost: string;
  /** How long to wait for an answer a case needs (default 4 s; an answer ends the wait). */
  answerMs?: number;
  /** How long silence must last to count as "no answer" where no answer is acceptable (default 1 s). */
  silenceMs?: number;
  /**
   * The domain (host or host:port) of the Request-URI and To of every case, so that a server's relay policy does not
   * decide a verdict about parsing: templates get it as ${domain} (default: the target's host:port), and torture
   * messages have their Request-URI and To hosts replaced by it (left as written when absent).
   */
  domain?: string;
  /** The account cases register and authenticate as; default a fresh user{n}/secret{n} per case. */
  user?: string;
  password?: string;
  /** --var NAME=VALUE: more ${NAME} for the cases' templates (the built-in names come first). */
  vars?: Record<string, string>;
  /** TLS client settings (the target's certificate is checked unless rejectUnauthorized is false). */
  tls?: TlsOptions;
  /** WebSocket targets: the upgrade's path, Origin and extra headers. */
  ws?: WsOptions;
  /** Tests: the run's wheel (a manual clock) and a transport other than a socket. */
  wheel?: TimerWheel;
  openTransport?: (opts: TransportOptions) => Promise<Transport>;
}

/** How long the liveness OPTIONS waits for its answer, and how many times it is asked. */
const ALIVE_WAIT_MS = 700;
const ALIVE_ATTEMPTS = 3;

export class SuiteRunner {
  private checker = this.newChecker();
  private readonly wheel: TimerWheel;
  private host!: CaseHost;
  /** Counts of the hosts already closed. */
  private unexpectedBefore = 0;
  private unparsableBefore = 0;
  private deadAfter: string | undefined;
  /** The case being played, whose password the checker's examples mask. */
  private casePassword: string | undefined;

  private constructor(private readonly opts: SuiteRunnerOptions) {
    this.wheel = opts.wheel ?? new TimerWheel();
  }

  static async open(opts: SuiteRunnerOptions): Promise<SuiteRunner> {
    const r = new SuiteRunner(opts);
    r.host = await r.openHost();
    return r;
  }

  /** Messages from the server that no case waited for. */
  get unexpected(): number {
    return this.unexpectedBefore + this.host.unexpectedRequests + this.host.unexpectedResponses;
  }

  /** Datagrams from the server that did not parse. */
  get unparsable(): number {
    return this.unparsableBefore + this.host.unparsable;
  }

  private get stream(): boolean {
    return this.opts.target.protocol !== 'udp';
  }

  private openHost(): Promise<CaseHost> {
    const o = this.opts;
    return CaseHost.open({ target: o.target, targetHostText: o.targetHostText, localHost: o.localHost, domain: o.domain, tls: o.tls, ws: o.ws, wheel: this.wheel, checker: this.checker, openTransport: o.openTransport });
  }

  /** A socket (or connection) of its own: the one before is closed, its counts kept. */
  private async reopen(): Promise<void> {
    await this.host.close();
    this.unexpectedBefore += this.host.unexpectedRequests + this.host.unexpectedResponses;
    this.unparsableBefore += this.host.unparsable;
    this.host = await this.openHost();
  }

  async run(suite: string, c: SuiteCase): Promise<CaseResult> {
    if (this.deadAfter) return { suite, case: c, notRun: true, problem: `not run: the server stopped answering after ${this.deadAfter}`, ms: 0, ladder: [] };
    if (this.stream && c.datagramOnly) return { suite, case: c, notApplicable: `over ${this.opts.target.protocol.toUpperCase()}: ${c.datagramOnly}`, ms: 0, ladder: [] };
    await this.reopen();
    const vars = this.vars();
    this.casePassword = vars.password;
    const played = await this.play(caseProgram(c, vars, { answerMs: this.opts.answerMs ?? 4000, silenceMs: this.opts.silenceMs ?? 1000 }), vars);
    this.casePassword = undefined;
    // A connection the case broke on purpose (framing) must not fail the liveness check: a new one asks.
    if (this.stream) await this.reopen();
    const v = played.verdict;
    let problem = v.problem;
    if (!(await this.alive())) {
      this.deadAfter = `${suite}/${c.id}`;
      problem = `${problem ? `${problem}; ` : ''}the server stopped answering OPTIONS after this case`;
    }
    return { suite, case: c, status: v.status, reasonPhrase: v.reasonPhrase, problem, notApplicable: v.notApplicable, ms: played.outcome.durationMs, ladder: this.reportLadder(played, vars.password!) };
  }

  private play(program: CompiledScenario, vars: Record<string, string>): Promise<CasePlayed> {
    return this.host.play(program, { index: 0, user: vars.user!, password: vars.password!, fields: {} });
  }

  /** An OPTIONS the server must answer: is it still there? */
  async alive(): Promise<boolean> {
    for (let attempt = 0; attempt < ALIVE_ATTEMPTS; attempt++) {
      const vars = this.vars();
      const played = await this.play(livenessProgram(vars, ALIVE_WAIT_MS), vars);
      if (played.verdict.problem === undefined) return true;
    }
    return false;
  }

  /** A case's variables: the built-in names over --var. */
  private vars(): Record<string, string> {
    const id = randomBytes(6).toString('hex');
    const n = randomInt(100_000, 1_000_000);
    const p = this.opts.target.protocol;
    return {
      ...this.opts.vars,
      local: this.host.localText,
      'uri.transport': this.stream ? `;transport=${p}` : '',
      transport: p.toUpperCase(),
      'target.host': this.opts.targetHostText,
      'target.port': String(this.opts.target.port),
      domain: this.opts.domain ?? `${this.opts.targetHostText}:${this.opts.target.port}`,
      'call.id': `conform-${id}@sipstorm`,
      branch: `z9hG4bK-conform-${id}`,
      tag: `t${id}`,
      user: this.opts.user ?? `user${n}`,
      password: this.opts.password ?? `secret${n}`,
    };
  }

  /**
   * The ladder as reports show it: digest `response`, `cnonce` and `rspauth` values and the passwords masked
   * (engine/ua/redact.ts), since with the nonce, realm and URI beside them a response allows an offline dictionary
   * attack on the password.
   */
  private reportLadder(played: CasePlayed, password: string): LadderEntry[] {
    // Bytes as latin1 keep a torture message's invalid UTF-8 intact; the passwords are compared in the same form.
    const secrets = [this.opts.password, password].filter((s): s is string => s !== undefined).map((s) => Buffer.from(s, 'utf8').toString('latin1'));
    return played.ladder.map((e) => ({ t: e.t, dir: e.dir, data: Buffer.from(redact(e.data.toString('latin1'), secrets), 'latin1') }));
  }

  /** A checker whose examples have the digest secrets masked, as a load run's do. */
  private newChecker(): ConformanceChecker {
    return new ConformanceChecker((text) => redact(text, [this.opts?.password, this.casePassword].filter((s): s is string => s !== undefined)));
  }

  /** The catalog's counts since the last call (one suite's worth). */
  takeCounts(): ConformanceChecker['counts'] {
    const counts = this.checker.counts;
    this.checker = this.host.conformance = this.newChecker();
    return counts;
  }

  async close(): Promise<void> {
    await this.host.close();
    this.wheel.stop();
  }
}
