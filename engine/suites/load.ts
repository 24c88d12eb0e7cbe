// Loads the conformance suites shipped in scenarios/conformance/: `torture`
// (the RFC 4475 messages byte for byte, with expect.tsv saying what a
// compliant registrar/UAS answers) and YAML suites of templated requests
// (rfc3261, register, presence, message, auth). A YAML case is one message
// (`message`, `expect`, `headers`) or a list of `steps`, each sending a
// request or awaiting one from the server (docs/conformance.md). A suite file
// is part of the tool, but a user may point --suite-dir elsewhere, so
// problems are one clear line, never a stack trace.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { SipstormError } from '../errors.js';
import { compileSafeRegex, compileTemplate, RegexError, type CaseAuthMode, type CaseHeaderMatch, type Expectation, type Template } from '../scenario/index.js';
import { InputFileError, readInputFile, type InputKind } from '../input-file.js';
import { parseExpectation } from '../ua/expect.js';
import { aliasBombError, MAX_ALIAS_COUNT } from '../scenario/yaml-limits.js';
import { withContactTransport } from './rewrite.js';

const AUTH_MODES: CaseAuthMode[] = ['answer', 'MD5', 'SHA-256', 'wrong-password', 'unknown-nonce', 'replay'];


export interface SuiteStep {
  /** A request to send: exact bytes (torture) or a template whose ${...} are filled in (CRLF line ends, the empty line after the headers). */
  bytes?: Buffer;
  template?: Template;
  /** A request the server must send us (its method); answered 200 and checked. */
  receive?: string;
  /** Send the case's previous request again, byte for byte (a retransmission, §17.2.3 matches it to its transaction). */
  resend?: boolean;
  /** The final answer must come this many more times before the tester acknowledges it (§17.2.1, §13.3.1.4). */
  retransmitted?: number;
  /** The final answer to this case's last request of that method (sent by an earlier step that took a provisional). */
  final?: string;
  /** The answer a sent request must get: a final one, or a provisional when the expectation names only 1xx codes. */
  expect: Expectation;
  /** Answers that make the case not applicable to this server (e.g. `4xx` to an INVITE for a user that must ring). */
  inapplicable?: Expectation;
  /** Headers the answer (or the received request) must carry, each list applying when the status meets its expectation. */
  headers: { when?: Expectation; names: string[] }[];
  match: CaseHeaderMatch[];
  /** Variables taken from the answer or request for later steps: name -> `Header`, `Header;param` or `Header<uri>`. */
  capture: [string, string][];
  auth?: CaseAuthMode;
  /** Wait this long before the step. */
  pauseMs: number;
}

export interface SuiteCase {
  id: string;
  rfc: string;
  section: string;
  title: string;
  steps: SuiteStep[];
  /**
   * Why the case tests something only a datagram has (Content-Length against the datagram's end, several
   * messages in one datagram, retransmissions by Timer G): over TCP and TLS it is not applicable.
   */
  datagramOnly?: string;
}

export interface Suite {
  name: string;
  file: string;
  cases: SuiteCase[];
}

export class SuiteError extends SipstormError {
  constructor(message: string) {
    super('SUITE_INVALID', message);
  }
}

/** A suite's file, refused (SuiteError, exit 2) when not a regular file or above its kind's size limit. */
function suiteBytes(path: string, kind: InputKind): Buffer {
  try {
    return readInputFile(path, kind);
  } catch (err) {
    if (err instanceof InputFileError) throw new SuiteError(err.message);
    throw err;
  }
}

function suiteText(path: string): string {
  return suiteBytes(path, 'suite').toString('utf8');
}

export function suiteNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => (d.isDirectory() && existsSync(join(dir, d.name, 'expect.tsv'))) || d.name.endsWith('.yaml'))
    .map((d) => d.name.replace(/\.yaml$/, ''))
    .sort();
}

export function loadSuite(dir: string, name: string): Suite {
  const torture = join(dir, name, 'expect.tsv');
  if (existsSync(torture)) return loadMessageDir(join(dir, name), name);
  const file = join(dir, `${name}.yaml`);
  if (!existsSync(file)) throw new SuiteError(`no suite '${name}' (suites: ${suiteNames(dir).join(', ')})`);
  return loadYamlSuite(file, name);
}

function loadMessageDir(dir: string, name: string): Suite {
  const sections = new Map<string, string>();
  const index = join(dir, 'index.tsv');
  if (existsSync(index)) {
    for (const line of suiteText(index).split('\n').slice(1)) {
      const [file, section] = line.split('\t');
      if (file && section) sections.set(file, section);
    }
  }
  // datagram-only.tsv: file<TAB>why, the messages that test what only a datagram has.
  const datagramOnly = new Map<string, string>();
  const dgram = join(dir, 'datagram-only.tsv');
  if (existsSync(dgram)) {
    for (const line of suiteText(dgram).split('\n').slice(1)) {
      const [f, why] = line.split('\t');
      if (f && why) datagramOnly.set(f, why.trim());
    }
  }
  const file = join(dir, 'expect.tsv');
  const cases = suiteText(file)
    .split('\n')
    .slice(1)
    .map((line, i) => ({ line, no: i + 2 }))
    .filter(({ line }) => line.trim())
    .map(({ line, no }): SuiteCase => {
      const [msgFile, expect, why] = line.split('\t');
      if (!msgFile || !expect) throw new SuiteError(`${file}:${no}: expected 'file<TAB>expect<TAB>why'`);
      const path = join(dir, msgFile);
      if (!existsSync(path)) throw new SuiteError(`${file}:${no}: no message file ${msgFile}`);
      const step: SuiteStep = { bytes: suiteBytes(path, 'body'), expect: at(file, no, expect), headers: [], match: [], capture: [], pauseMs: 0 };
      return { id: msgFile, rfc: 'RFC 4475', section: sections.get(msgFile) ?? '?', title: why ?? '', steps: [step], datagramOnly: datagramOnly.get(msgFile) };
    });
  return { name, file: dir, cases };
}

function loadYamlSuite(file: string, name: string): Suite {
  let doc: unknown;
  const text = suiteText(file);
  const lc = new LineCounter();
  const parsed = parseDocument(text, { lineCounter: lc });
  if (parsed.errors.length) throw new SuiteError(`${file}: ${parsed.errors[0]!.message.split('\n')[0]}`);
  try {
    doc = parsed.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new SuiteError(aliasBombError(err, parsed, lc, file).message);
  }
  const list = (doc as { cases?: unknown } | null)?.cases;
  if (!Array.isArray(list)) throw new SuiteError(`${file}: expected a list under 'cases'`);
  const cases = list.map((c: Record<string, unknown>, i): SuiteCase => {
    const where = `${file}: case ${i + 1}${typeof c?.id === 'string' ? ` (${c.id})` : ''}`;
    for (const key of ['id', 'rfc', 'section', 'title']) {
      if (typeof c?.[key] !== 'string') throw new SuiteError(`${where}: '${key}' must be a string`);
    }
    if (c.steps !== undefined && c.message !== undefined) throw new SuiteError(`${where}: a case has 'message' or 'steps', not both`);
    const steps = c.steps ?? [{ send: c.message, expect: c.expect, headers: c.headers }];
    if (!Array.isArray(steps) || !steps.length) throw new SuiteError(`${where}: 'steps' must be a non-empty list`);
    if (c['datagram-only'] !== undefined && typeof c['datagram-only'] !== 'string') throw new SuiteError(`${where}: 'datagram-only' must say why the case applies to UDP only`);
    return {
      id: c.id as string, rfc: c.rfc as string, section: c.section as string, title: c.title as string,
      steps: steps.map((s, k) => yamlStep(s, `${where} step ${k + 1}`)),
      datagramOnly: c['datagram-only'] as string | undefined,
    };
  });
  return { name: (doc as { name?: string }).name ?? name, file, cases };
}

function yamlStep(s: Record<string, unknown>, where: string): SuiteStep {
  if (s === null || typeof s !== 'object') throw new SuiteError(`${where}: expected a mapping`);
  const known = ['send', 'receive', 'final', 'resend', 'retransmitted', 'expect', 'inapplicable', 'headers', 'match', 'absent', 'capture', 'auth', 'pause'];
  const stray = Object.keys(s).find((k) => !known.includes(k));
  if (stray) throw new SuiteError(`${where}: unknown key '${stray}' (keys: ${known.join(', ')})`);
  if (s.resend !== undefined && s.resend !== true) throw new SuiteError(`${where}: 'resend' is true or absent`);
  if (['send', 'receive', 'final'].filter((k) => typeof s[k] === 'string').length + (s.resend ? 1 : 0) !== 1) {
    throw new SuiteError(`${where}: a step has one of 'send' (a message), 'receive' (a method), 'final' (a method) or 'resend: true'`);
  }
  if (s.retransmitted !== undefined && !(Number.isInteger(s.retransmitted) && (s.retransmitted as number) > 0)) {
    throw new SuiteError(`${where}: 'retransmitted' must be a whole number of retransmissions, like 2`);
  }
  if (typeof s.expect === 'number') s.expect = String(s.expect);
  if (s.receive === undefined && typeof s.expect !== 'string') throw new SuiteError(`${where}: 'expect' must be a string like 200, 4xx or 405|501`);
  if (s.inapplicable !== undefined && typeof s.inapplicable !== 'string') throw new SuiteError(`${where}: 'inapplicable' must be a string like 4xx`);
  if (s.receive !== undefined && s.expect !== undefined) throw new SuiteError(`${where}: a 'receive' step has no 'expect' (the request is answered 200)`);
  if (s.auth !== undefined && !AUTH_MODES.includes(s.auth as CaseAuthMode)) throw new SuiteError(`${where}: 'auth' must be one of ${AUTH_MODES.join(', ')}`);
  const pauseMs = s.pause === undefined ? 0 : typeof s.pause === 'number' ? s.pause : NaN;
  if (!(pauseMs >= 0)) throw new SuiteError(`${where}: 'pause' must be milliseconds`);
  return {
    template: typeof s.send === 'string' ? requestTemplate(s.send) : undefined,
    receive: s.receive as string | undefined,
    final: (s.final as string | undefined)?.toUpperCase(),
    resend: s.resend === true,
    retransmitted: s.retransmitted as number | undefined,
    inapplicable: s.inapplicable !== undefined ? at(where, 0, s.inapplicable as string) : undefined,
    expect: s.receive !== undefined ? parseExpectation('any') : at(where, 0, s.expect as string),
    headers: headerLists(s.headers, where),
    match: [...matches(s.match, false, where), ...matches(s.absent, true, where)],
    capture: stringMap(s.capture, where, 'capture'),
    auth: s.auth as CaseAuthMode | undefined,
    pauseMs,
  };
}

/** A step's message as a template: Contacts of ${local} name the transport, line ends are CRLF, the headers end with an empty line. */
export function requestTemplate(text: string): Template {
  let crlf = withContactTransport(text).replace(/\r?\n/g, '\r\n');
  if (!crlf.includes('\r\n\r\n')) crlf += '\r\n';
  return compileTemplate(crlf);
}

/** `headers: [A, B]` for every final answer, or `headers: { "423": [Min-Expires], "2xx": [Contact] }` per status. */
function headerLists(v: unknown, where: string): SuiteStep['headers'] {
  if (v === undefined) return [];
  const names = (x: unknown) => {
    if (!Array.isArray(x) || x.some((h) => typeof h !== 'string')) throw new SuiteError(`${where}: 'headers' must be a list of header names, or such lists by status`);
    return x as string[];
  };
  if (Array.isArray(v)) return [{ names: names(v) }];
  if (v === null || typeof v !== 'object') names(v);
  return Object.entries(v as Record<string, unknown>).map(([when, x]) => ({ when: at(where, 0, when), names: names(x) }));
}

/** `match: { Contact: [regex, ...] }`: each regex must match one of the header's values (`absent`: none may); linear-time patterns (scenario/safe-regex.ts), case-insensitive. */
function matches(v: unknown, absent: boolean, where: string): CaseHeaderMatch[] {
  if (v === undefined) return [];
  const key = absent ? 'absent' : 'match';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new SuiteError(`${where}: '${key}' maps header names to regular expressions`);
  return Object.entries(v as Record<string, unknown>).flatMap(([header, list]) =>
    (Array.isArray(list) ? list : [list]).map((p) => {
      if (typeof p !== 'string') throw new SuiteError(`${where}: '${key}.${header}' must be regular expressions`);
      try {
        // Variables become literals of their own length, so that an offset still points into the text as written.
        compileSafeRegex(p.replace(/\$\{[\w.]+\}/g, (v) => 'x'.repeat(v.length)), true);
        // What a server echoes of the Contacts and Via sent over TCP or TLS names that transport (rewrite.ts).
        const source = p.replace(/@\$\{local\}>/g, '@${local}${uri.transport}>').replace(/SIP\/2\.0\/UDP \$\{local\}/g, 'SIP/2.0/${transport} ${local}');
        return { header, template: compileTemplate(source), absent };
      } catch (err) {
        if (!(err instanceof RegexError)) throw err;
        throw new SuiteError(`${where}: '${key}.${header}': bad regular expression /${p}/ at character ${err.offset + 1}: ${err.message}`);
      }
    }),
  );
}

function stringMap(v: unknown, where: string, key: string): [string, string][] {
  if (v === undefined) return [];
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new SuiteError(`${where}: '${key}' maps names to strings`);
  }
  return Object.entries(v as Record<string, string>);
}

function at(file: string, line: number, text: string): Expectation {
  try {
    return parseExpectation(text);
  } catch (err) {
    throw new SuiteError(`${file}${line ? `:${line}` : ''}: ${(err as Error).message}`);
  }
}
