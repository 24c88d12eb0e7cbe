// The compiled scenario: plain, JSON-serializable data shared by every worker
// (structured clone), with the flow flattened into a program of steps and
// jump targets. Regular expressions travel as sources and are compiled where
// they are used.

import type { Direction, MediaSettings } from '../media/index.js';
import type { Distribution } from '../random/index.js';
import type { Template } from './template.js';

export interface SourcePos {
  line: number;
  col: number;
}

/** Code ranges, inclusive: 2xx is [200, 299]. */
export type CodeRanges = [number, number][];

export interface HeaderCheck {
  name: string;
  mode: 'exists' | 'absent' | 'regex';
  regex?: string;
  /** The regular expression as a template, when it names variables: filled in per UA, values escaped to match literally. */
  regexTemplate?: Template;
}

export interface Expectation {
  codes: CodeRanges;
  /** Text as the author wrote it, for messages ("expected 2xx, got 486"). */
  text: string;
  headers: HeaderCheck[];
  body?: string;
  /** The body text as a template, when it names variables (e.g. 'busy-${peer.user}'). */
  bodyTemplate?: Template;
  /** No final answer is acceptable too (a conformance case's `400|drop`). */
  drop?: boolean;
  /** Any outcome is acceptable: the RFC leaves the choice to the server (a conformance case's `any`). */
  any?: boolean;
  /** `!CODE`: any final answer but these (a conformance case's `!400`). */
  except?: number[];
}

export interface Capture {
  name: string;
  header?: string;
  body?: boolean;
  /** Matched against the whole message text (SIPp's ereg search_in="msg"). */
  message?: boolean;
  regex?: string;
  /** The group kept (0: the whole match); default 1 when the pattern has a group, else 0. */
  group?: number;
  /** No match leaves the variable unset rather than failing the step. */
  optional?: boolean;
}

interface StepBase extends SourcePos {
  /** Index of the metrics slot of this step (send, recv, raw, await), -1 for flow steps. */
  metric: number;
}

export interface SendStep extends StepBase {
  kind: 'send';
  name: string;
  method: string;
  uri?: Template;
  to?: Template;
  headers: [string, Template][];
  body?: Template;
  contentType?: string;
  expect: Expectation;
  timeoutMs: number;
  auth: boolean;
  dialog?: boolean;
  async: boolean;
  asyncId?: string;
  optional: boolean;
  capture: Capture[];
  on: { codes: CodeRanges; target: number }[];
  /** INVITE with media: the direction of this offer (hold: sendonly, inactive). */
  direction?: Direction;
}

/** What a step that receives a message (a request: `recv`; a response to a raw request: `response`) does with it. */
interface ReceivedMessageSteps {
  optional: boolean;
  capture: Capture[];
  /** Where to go once received (`next`), only when variable `nextIf` is set if given; on a timeout (`onTimeout`). */
  next?: number;
  nextIf?: string;
  onTimeout?: number;
  /** Keep the route set and Contact of the message received (${routes}, ${next.url}). */
  rrs: boolean;
}

export interface RecvStep extends StepBase, ReceivedMessageSteps {
  kind: 'recv';
  name: string;
  method: string;
  timeoutMs: number;
  expect: Expectation;
  reply: number[];
  replyBody?: Template;
  replyContentType?: string;
  replyHeaders: [string, Template][];
  /** A conformance case's `receive` step (engine/ua/case-steps.ts). */
  case?: CaseStepOptions;
}

/** Waits for a response to a raw request of the instance (SIPp's recv response=...). */
export interface ResponseStep extends StepBase, ReceivedMessageSteps {
  kind: 'response';
  name: string;
  codes: CodeRanges;
  text: string;
  timeoutMs: number;
}

/** Per-instance variables set: a value, arithmetic on a variable's number, or a comparison (true or unset). */
export type SetOp =
  | { name: string; op: 'assign'; value: Template }
  | { name: string; op: 'add' | 'subtract' | 'multiply' | 'divide'; value: Template }
  | { name: string; op: 'compare'; left: Template; cmp: '==' | '!=' | '<' | '<=' | '>' | '>='; right: Template };

export interface SetStep extends StepBase {
  kind: 'set';
  ops: SetOp[];
}

export interface RawStep extends StepBase {
  kind: 'raw';
  name: string;
  text: Template;
  expect: Expectation;
  timeoutMs: number;
  optional: boolean;
  /** false: sent and the next step runs at once, no response awaited. */
  wait: boolean;
  /** A conformance case's send (engine/ua/case-steps.ts). */
  case?: CaseStepOptions;
}

export interface AwaitStep extends StepBase {
  kind: 'await';
  name: string;
  asyncId: string;
  expect: Expectation;
  timeoutMs: number;
  /** A conformance case's `final` step (engine/ua/case-steps.ts). */
  case?: CaseStepOptions;
}

/** RFC 4733 events on the call's media stream; passes when the last digit has ended. */
export interface DtmfStep extends StepBase {
  kind: 'dtmf';
  name: string;
  digits: string;
  timeoutMs: number;
}

/** A pause's length: fixed, or drawn from a distribution per instance (engine/random). */
export type PauseSpec = Distribution;

export interface PauseStep extends StepBase {
  kind: 'pause';
  pause: PauseSpec;
}

export interface LoopEnterStep extends StepBase {
  kind: 'loop-enter';
  slot: number;
  count: number;
}

export interface LoopNextStep extends StepBase {
  kind: 'loop-next';
  slot: number;
  /** First step of the loop body. */
  target: number;
}

export interface GotoStep extends StepBase {
  kind: 'goto';
  target: number;
  /** Jump only when this variable is set and not empty. */
  if?: string;
}

export interface LabelStep extends StepBase {
  kind: 'label';
  label: string;
}

export type CompiledStep = SendStep | RecvStep | ResponseStep | SetStep | RawStep | AwaitStep | PauseStep | LoopEnterStep | LoopNextStep | GotoStep | LabelStep | DtmfStep;

export interface UserSettings {
  count?: number;
  first: number;
  user: string;
  password: string;
  domain?: string;
  /** Absolute path of a CSV file. */
  csv?: string;
}

export interface Phase {
  durationMs: number;
  rate: number;
  rampTo?: number;
}

export interface LoadSettings {
  model: 'open' | 'closed';
  rate?: number;
  total?: number;
  durationMs?: number;
  maxConcurrent?: number;
  iterations?: number;
  thinkTimeMs?: number;
  phases?: Phase[];
  /** After the load ends, how long running instances may go on before they are stopped (default 30 s). */
  gracefulStopMs?: number;
  /** Open model: arrivals evenly spaced (default) or a Poisson process of the same mean rate. */
  arrivals?: 'uniform' | 'poisson';
  /** Erlang setting: the concurrent instances aimed at; the rate is erlangs / mean hold (Little's law). */
  erlangs?: number;
  /** The mean hold time the rate of `erlangs` was computed from. */
  meanHoldMs?: number;
  /**
   * Which random stream Poisson arrivals draw from (default 0). The roles of one scenario share one, so that
   * a caller and its callee keep arriving together; the files of a mix each have their own.
   */
  stream?: number;
}

/** How the role's UAs answer a 401/407: digest (RFC 3261 §22), or an [MS-SIPAE] NTLM or Kerberos login. */
export interface AuthSettings {
  scheme: 'digest' | 'ntlm' | 'kerberos';
  /** Kerberos: the realm of the users' principals (the KDC's realm, not the SIP realm). */
  realm?: string;
  /** NTLM: the Windows domain of the accounts. */
  domain?: string;
  /** Kerberos: the KDC as HOST:PORT[/udp|/tcp]; --kdc overrides it. */
  kdc?: string;
  /** Kerberos: absolute path of a keytab with the users' keys, used instead of passwords. */
  keytab?: string;
}

export interface CompiledRole {
  name: string;
  users: UserSettings;
  /** Absent: digest. */
  auth?: AuthSettings;
  load: LoadSettings;
  peer?: string;
  steps: CompiledStep[];
  /** Names of the metric slots, in order (send/recv/raw/await steps). */
  metricNames: string[];
  loopSlots: number;
  /** Template variables the steps use (for checks and for CSV columns). */
  variables: string[];
  /** For each step index, the methods a recv step at or after it (following loops and jumps) waits for: what to keep for later rather than auto-answer. */
  recvAhead: string[][];
  /** Audio with every call (`media:` of the role, or of the scenario). */
  media?: MediaSettings;
}

export interface ThresholdSource extends SourcePos {
  expr: string;
  file: string;
  abortOnFail: boolean;
  delayAbortMs: number;
}

export interface CompiledScenario {
  file: string;
  name: string;
  description?: string;
  target?: string;
  timeoutMs: number;
  roles: CompiledRole[];
  thresholds: ThresholdSource[];
  /** Values of ${NAME}: the file's `vars`, overridden by --var NAME=VALUE. */
  vars: Record<string, string>;
  /** Answer unwaited in-dialog NOTIFY/INFO/UPDATE and OPTIONS with 200 at once (default true). */
  autoAnswer: boolean;
  /** The run's seed (--seed, or drawn at start): Poisson arrivals and pauses from distributions draw from it. */
  seed?: number;
}

// ---- conformance cases ----
// What a conformance case's step asks of the UA core beyond a scenario step: plain data that engine/suites sets
// when it compiles a case into a program (never written in a scenario's YAML). A case's send is a `raw` step, its
// `receive` a `recv` step, its `final` an `await` step, each with these options; engine/ua/case-steps.ts plays them.

/**
 * How a step deals with a digest challenge (401/407) to what it sends: `answer` with the case's credentials and the
 * strongest algorithm offered, `MD5`/`SHA-256` with that one (not applicable when it is not offered),
 * `wrong-password`, `unknown-nonce` (a nonce the server never issued, the response computed over it), or `replay`
 * (no challenge round: the case's previous Authorization, nonce count and all, sent again).
 */
export type CaseAuthMode = 'answer' | 'MD5' | 'SHA-256' | 'wrong-password' | 'unknown-nonce' | 'replay';

/**
 * A header check: `header` must (or, with `absent`, must not) have a value matching `template`, a regular
 * expression (case-insensitive) whose ${...} are filled in when the step runs, escaped to match literally.
 */
export interface CaseHeaderMatch {
  header: string;
  template: Template;
  absent: boolean;
}

/** What a case's step requires of an answer or of a request the server sent, beyond its code. */
export interface CaseChecks {
  /** Headers the message must carry, each list applying when the status meets its expectation (all finals without one). */
  headers: { when?: Expectation; names: string[] }[];
  match: CaseHeaderMatch[];
  /** Variables taken for later steps: name -> `Header`, `Header;param` or `Header<uri>`. */
  capture: [string, string][];
}

export interface CaseStepOptions extends CaseChecks {
  /** Torture bytes (latin1 text), sent as written but for the top Via and --domain hosts (the host rewrites them). */
  bytes?: string;
  /** Send the case's previous request again, byte for byte. */
  resend?: boolean;
  auth?: CaseAuthMode;
  /** The final answer must come this many more times before it is acknowledged (§17.2.1, §13.3.1.4). */
  retransmitted?: number;
  /** Answers that make the case not applicable to this server. */
  inapplicable?: Expectation;
  /** An `await` step: the final answer to the case's last request of this method. */
  final?: string;
  /** How long an answer the step needs is waited for; how long silence must last where none is acceptable. */
  answerMs: number;
  silenceMs: number;
  /** Put before the step's problem in the case's verdict (`step 2: `), empty for a one-step case. */
  where: string;
}
