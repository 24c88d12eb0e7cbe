// Scenario files to compiled scenarios: YAML parsed with source positions,
// checked against schemas/scenario.schema.json (ajv), then checked for what a
// schema cannot see (undefined variables, missing labels, bad regular
// expressions, missing files), and flattened into a program of steps.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, type Document, type Node } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { readCsvFile } from '../data/csv.js';
import { schemaValidator } from '../data/json-schema.js';
import { parseDuration } from './duration.js';
import { applyErlangs } from './erlang.js';
import { ScenarioError, ScenarioErrors } from './errors.js';
import { checkInputFile, InputFileError, readInputText } from '../input-file.js';
import { aliasBombError, MAX_ALIAS_COUNT } from './yaml-limits.js';
import { describePath, friendlyErrors } from './schema-errors.js';
import { compileTemplate, templateVars, type Template } from './template.js';
import { compileSafeRegex, RegexError } from './safe-regex.js';
import { RAW_VARIABLES, isLastHeaderVariable } from './raw-variables.js';
import { mediaOf } from './media.js';
import { DISTRIBUTIONS, PARAMETERS, distributionProblem, paretoScaleFor } from '../random/index.js';
import type {
  Capture, CodeRanges, CompiledRole, CompiledScenario, CompiledStep, Expectation, HeaderCheck, LoadSettings, PauseSpec, RecvStep, ResponseStep, SendStep, SetOp, SourcePos, UserSettings,
  AuthSettings,
} from './types.js';

let validator: ValidateFunction | undefined;
function validate(): ValidateFunction {
  validator ??= schemaValidator('scenario').validate;
  return validator;
}

/** Variables every scenario may use; ${peer.*} needs a peer role. */
export const BUILTIN_VARIABLES = new Set([
  'user', 'password', 'domain', 'aor', 'n', 'target.host', 'target.port', 'target.transport', 'target.uri',
  'local.host', 'local.port', 'local.transport', 'local.uri', 'call.id', 'branch', 'tag', 'cseq', 'random', 'timestamp', 'iteration',
  ...RAW_VARIABLES,
]);
const PEER_VARIABLES = new Set(['peer.user', 'peer.aor', 'peer.domain', 'peer.n']);

/** What the command line adds to a scenario file. */
export interface CompileOptions {
  /** --var NAME=VALUE: values of ${NAME}, over the file's `vars`. */
  vars?: Record<string, string>;
  /** --users-csv: replaces every role's users CSV, so its columns are the variables ${column}. */
  usersCsv?: string;
}

/** The column names of a users CSV (its header, read by the one CSV reader), lower-cased. */
function csvColumns(file: string | undefined): string[] {
  if (!file || !existsSync(file)) return [];
  return readCsvFile(file, 'users CSV').header.map((h) => h.toLowerCase());
}

type Path = (string | number)[];
type Raw = Record<string, unknown>;

class Compiler {
  readonly errors: ScenarioError[] = [];
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lc: LineCounter,
    readonly opts: CompileOptions = {},
    private readonly text = '',
  ) {}

  /**
   * Like fail, at a character of a scalar value (a regular expression's problem): exact when the
   * value is written on one line without escapes, else at the value's start.
   */
  failInValue(code: string, path: Path, message: string, offset: number): void {
    const node = this.doc.getIn(path, true) as Node | undefined;
    const r = node?.range;
    if (r && isScalar(node) && typeof node.value === 'string') {
      const quoted = this.text[r[0]] === "'" || this.text[r[0]] === '"' ? 1 : 0;
      const start = r[0] + quoted;
      if (this.text.slice(start, start + node.value.length) === node.value) {
        const p = this.at(start + offset);
        this.errors.push(new ScenarioError(code, this.file, p.line, p.col, this.withStep(path, message)));
        return;
      }
    }
    this.fail(code, path, message);
  }

  private withStep(path: Path, message: string): string {
    let last = -1;
    for (let i = 0; i + 1 < path.length; i++) if (path[i] === 'steps' && typeof path[i + 1] === 'number') last = i + 1;
    const where = last >= 0 ? describePath(path.slice(0, last + 1)) : '';
    return where && !/^(step|role|the scenario)/.test(message) ? `${where}: ${message}` : message;
  }

  pos(path: Path, key?: string): SourcePos {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (n === path.length && key && isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && it.key.value === key);
        const r = (pair?.key as Node | undefined)?.range;
        if (r) return this.at(r[0]);
      }
      if (node && (node as Node).range) return this.at((node as Node).range![0]);
    }
    return { line: 1, col: 1 };
  }

  at(offset: number): SourcePos {
    const p = this.lc.linePos(offset);
    return { line: p.line, col: p.col };
  }

  fail(code: string, path: Path, message: string, key?: string): void {
    const p = this.pos(path, key);
    // Name the step a semantic problem belongs to, unless the message already does.
    this.errors.push(new ScenarioError(code, this.file, p.line, p.col, this.withStep(path, message)));
  }
}

export function compileScenarioText(text: string, file: string, opts: CompileOptions = {}): CompiledScenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const p = e.linePos?.[0] ?? lc.linePos(e.pos[0]);
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ScenarioError('SCENARIO_YAML', file, p.line, p.col, `not valid YAML: ${msg}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  } catch (err) {
    throw aliasBombError(err, doc, lc, file);
  }
  const c = new Compiler(file, doc, lc, opts, text);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ScenarioError('SCENARIO_INVALID', file, 1, 1, 'a scenario must be a mapping with steps (or roles)');
  }
  const v = validate();
  if (!v(data)) {
    const raw = data as Raw;
    if (!('steps' in raw) && !('roles' in raw)) throw new ScenarioError('SCENARIO_INVALID', file, 1, 1, "a scenario needs 'steps' (or 'roles' with steps)");
    if ('steps' in raw && 'roles' in raw) {
      c.fail('SCENARIO_INVALID', [], "a scenario has either 'steps' or 'roles', not both", 'roles');
    }
    for (const f of friendlyErrors(v.errors ?? [], data)) {
      const last = f.path[f.path.length - 1];
      const isUnknownKey = / has an unknown key /.test(f.message);
      if (isUnknownKey) c.fail('SCENARIO_SCHEMA', f.path.slice(0, -1), f.message, String(last));
      else c.fail('SCENARIO_SCHEMA', f.path, f.message);
    }
    throw c.errors.length === 1 ? c.errors[0]! : new ScenarioErrors(c.errors);
  }
  const scenario = build(c, data as Raw);
  if (c.errors.length > 0) throw c.errors.length === 1 ? c.errors[0]! : new ScenarioErrors(c.errors);
  return scenario;
}

function build(c: Compiler, d: Raw): CompiledScenario {
  const baseDir = dirname(resolve(c.file));
  const roleEntries: [string, Raw, Path][] = d.roles
    ? Object.entries(d.roles as Record<string, Raw>).map(([name, r]) => [name, r, ['roles', name]])
    : [['main', d, []]];
  const roleNames = new Set(roleEntries.map((r) => r[0]));
  const defaultLoad = d.load as Raw | undefined;
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.vars as Raw | undefined) ?? {})) {
    if (BUILTIN_VARIABLES.has(k) || PEER_VARIABLES.has(k)) c.fail('SCENARIO_VARIABLE', ['vars'], `'vars' cannot set the built-in \${${k}}`, k);
    vars[k] = String(v);
  }
  Object.assign(vars, c.opts.vars);
  const roles = roleEntries.map(([name, r, path]) => {
    const role = buildRole(c, name, r, path, baseDir, roleNames, defaultLoad, vars);
    const media = mediaOf(c, (r.media ?? d.media) as Raw | undefined, r.media ? path : [], baseDir);
    if (media) role.media = media;
    const dtmf = role.steps.find((st) => st.kind === 'dtmf');
    if (dtmf && !media) c.errors.push(new ScenarioError('SCENARIO_MEDIA', c.file, dtmf.line, dtmf.col, `a dtmf step needs a 'media' setting (the call's audio stream carries the digits)`));
    return role;
  });
  roleEntries.forEach(([, r, path], i) => {
    const auth = (r.auth ?? d.auth) as AuthSettings | undefined;
    if (!auth || auth.scheme === 'digest') return;
    roles[i]!.auth = { ...auth };
    if (auth.keytab !== undefined) {
      const file = resolve(baseDir, auth.keytab);
      if (!existsSync(file)) c.fail('SCENARIO_FILE', [...(r.auth ? path : []), 'auth', 'keytab'], `keytab '${auth.keytab}' not found next to the scenario`);
      roles[i]!.auth!.keytab = file;
    }
  });
  const thresholds = ((d.thresholds as (string | Raw)[] | undefined) ?? []).map((th, i) => {
    const o = typeof th === 'string' ? { expr: th } : th;
    return {
      expr: String(o.expr), file: c.file, ...c.pos(['thresholds', i]),
      abortOnFail: o.abortOnFail === true, delayAbortMs: o.delayAbortEval !== undefined ? parseDuration(o.delayAbortEval as string)! : 0,
    };
  });
  const timeoutMs = d.timeout !== undefined ? parseDuration(d.timeout as string)! : 60_000;
  return {
    file: c.file,
    name: (d.name as string | undefined) ?? c.file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    description: d.description as string | undefined,
    target: d.target as string | undefined,
    timeoutMs,
    roles,
    thresholds,
    vars,
    autoAnswer: d.autoAnswer !== false,
  };
}

function buildUsers(c: Compiler, u: Raw | undefined, path: Path, baseDir: string): UserSettings {
  const users: UserSettings = {
    count: u?.count as number | undefined,
    first: (u?.first as number | undefined) ?? 1,
    user: (u?.user as string | undefined) ?? 'user{n}',
    password: (u?.password as string | undefined) ?? 'secret{n}',
    domain: u?.domain as string | undefined,
  };
  if (u?.csv) {
    const csv = resolve(baseDir, u.csv as string);
    if (!existsSync(csv)) c.fail('SCENARIO_FILE', [...path, 'users', 'csv'], `users CSV '${u.csv}' not found next to the scenario`);
    else {
      try {
        checkInputFile(csv, 'csv');
      } catch (err) {
        if (!(err instanceof InputFileError)) throw err;
        c.fail(err.code === 'INPUT_TOO_LARGE' ? 'SCENARIO_TOO_LARGE' : 'SCENARIO_FILE', [...path, 'users'], `users CSV '${u.csv}' ${err.reason}`, 'csv');
        return users; // not read for its columns either
      }
    }
    users.csv = csv;
  }
  return users;
}

function buildLoad(c: Compiler, l: Raw | undefined, path: Path): LoadSettings {
  const model = ((l?.model as string | undefined) ?? 'open') as 'open' | 'closed';
  const load: LoadSettings = { model };
  if (l?.rate !== undefined) load.rate = l.rate as number;
  if (l?.total !== undefined) load.total = l.total as number;
  if (l?.duration !== undefined) load.durationMs = parseDuration(l.duration as string);
  if (l?.gracefulStop !== undefined) load.gracefulStopMs = parseDuration(l.gracefulStop as string);
  if (l?.maxConcurrent !== undefined) load.maxConcurrent = l.maxConcurrent as number;
  if (l?.iterations !== undefined) load.iterations = l.iterations as number;
  if (l?.thinkTime !== undefined) load.thinkTimeMs = parseDuration(l.thinkTime as string);
  if (l?.arrivals !== undefined) load.arrivals = l.arrivals as 'uniform' | 'poisson';
  if (l?.meanHold !== undefined) load.meanHoldMs = parseDuration(l.meanHold as string);
  if (l?.erlangs !== undefined) {
    load.erlangs = l.erlangs as number;
    if (l.rate !== undefined || l.phases !== undefined) c.fail('SCENARIO_LOAD', [...path, 'load'], "'erlangs' sets the rate: give 'erlangs' or 'rate'/'phases', not both", 'erlangs');
  } else if (l?.meanHold !== undefined) c.fail('SCENARIO_LOAD', [...path, 'load'], "'meanHold' goes with 'erlangs'", 'meanHold');
  if (l?.phases) {
    load.phases = (l.phases as Raw[]).map((p) => ({
      durationMs: parseDuration(p.duration as string)!,
      rate: p.rate as number,
      ...(p.rampTo !== undefined ? { rampTo: p.rampTo as number } : {}),
    }));
  }
  if (model === 'closed' && (load.rate !== undefined || load.phases)) {
    c.fail('SCENARIO_LOAD', [...path, 'load'], "a closed load model has users and iterations, not 'rate' or 'phases'");
  }
  if (model === 'closed' && (load.arrivals !== undefined || load.erlangs !== undefined)) {
    c.fail('SCENARIO_LOAD', [...path, 'load'], "a closed load model has users and iterations, not 'arrivals' or 'erlangs'");
  }
  if (model === 'open' && load.rate === undefined && !load.phases && load.total === undefined && load.erlangs === undefined) {
    load.total = 1;
  }
  return load;
}

function buildRole(
  c: Compiler, name: string, r: Raw, path: Path, baseDir: string, roleNames: Set<string>, defaultLoad: Raw | undefined, vars: Record<string, string>,
): CompiledRole {
  const users = buildUsers(c, r.users as Raw | undefined, path, baseDir);
  const load = buildLoad(c, (r.load as Raw | undefined) ?? defaultLoad, r.load ? path : []);
  const peer = r.peer as string | undefined;
  if (peer !== undefined && !roleNames.has(peer)) {
    c.fail('SCENARIO_PEER', [...path, 'peer'], `peer role '${peer}' does not exist (roles: ${[...roleNames].join(', ')})`);
  }
  if (peer === name) c.fail('SCENARIO_PEER', [...path, 'peer'], `a role cannot be its own peer`);
  const ctx: RoleCtx = {
    steps: [], metricNames: [], labels: new Map(), gotos: [], loopSlots: 0, captures: new Set(), uses: [], asyncIds: new Map(), baseDir,
  };
  flatten(c, ctx, r.steps as Raw[], [...path, 'steps']);
  if (load.erlangs !== undefined && load.model === 'open') {
    const problem = applyErlangs(load, load.erlangs, ctx.steps, load.meanHoldMs);
    if (problem) c.fail('SCENARIO_LOAD', [...(r.load ? path : []), 'load'], problem, 'erlangs');
  }
  // Resolve labels.
  for (const g of ctx.gotos) {
    const target = ctx.labels.get(g.label);
    if (target === undefined) {
      c.fail('SCENARIO_LABEL', g.path, `label '${g.label}' is not defined${ctx.labels.size ? ` (labels: ${[...ctx.labels.keys()].join(', ')})` : ''}`);
      continue;
    }
    g.set(target);
  }
  // Variables: builtins, user CSV columns (of --users-csv if given: it replaces the file's), captures, peer, --var and `vars`.
  const columns = csvColumns(c.opts.usersCsv ?? users.csv);
  for (const u of ctx.uses) {
    for (const v of u.vars) {
      if (BUILTIN_VARIABLES.has(v) || isLastHeaderVariable(v) || ctx.captures.has(v) || columns.includes(v.toLowerCase()) || Object.hasOwn(vars, v)) continue;
      if (PEER_VARIABLES.has(v)) {
        if (peer === undefined) c.fail('SCENARIO_VARIABLE', u.path, `\${${v}} needs a 'peer' role to refer to`);
        continue;
      }
      c.fail('SCENARIO_VARIABLE', u.path, `undefined variable \${${v}} (not built in, not a CSV column, not captured, not given with --var or in 'vars')`);
    }
  }
  return {
    name, users, load, peer, steps: ctx.steps, metricNames: ctx.metricNames, loopSlots: ctx.loopSlots,
    variables: [...new Set(ctx.uses.flatMap((u) => u.vars))],
    recvAhead: recvAhead(ctx.steps),
  };
}

/** For each step, the methods of the recv steps reachable from it (itself included), following loops, gotos and 'on' branches. */
function recvAhead(steps: CompiledStep[]): string[][] {
  const next = (i: number): number[] => {
    const s = steps[i]!;
    if (s.kind === 'goto') return [s.target];
    if (s.kind === 'loop-next') return [s.target, i + 1];
    if (s.kind === 'send') return [i + 1, ...s.on.map((o) => o.target)];
    if (s.kind === 'recv' || s.kind === 'response') return [i + 1, ...[s.next, s.onTimeout].filter((x): x is number => x !== undefined)];
    return [i + 1];
  };
  return steps.map((_, start) => {
    const seen = new Set<number>([start]);
    const methods = new Set<string>();
    for (const todo = [start]; todo.length; ) {
      const i = todo.pop()!;
      const s = steps[i]!;
      if (s.kind === 'recv') methods.add(s.method);
      for (const j of next(i)) {
        if (j >= 0 && j < steps.length && !seen.has(j)) {
          seen.add(j);
          todo.push(j);
        }
      }
    }
    return [...methods];
  });
}

interface RoleCtx {
  steps: CompiledStep[];
  metricNames: string[];
  labels: Map<string, number>;
  gotos: { label: string; path: Path; set(target: number): void }[];
  loopSlots: number;
  captures: Set<string>;
  uses: { vars: string[]; path: Path }[];
  asyncIds: Map<string, boolean>;
  baseDir: string;
}

function metricSlot(ctx: RoleCtx, name: string): { metric: number; name: string } {
  let unique = name;
  for (let i = 2; ctx.metricNames.includes(unique); i++) unique = `${name}#${i}`;
  ctx.metricNames.push(unique);
  return { metric: ctx.metricNames.length - 1, name: unique };
}

function tpl(ctx: RoleCtx, text: string, path: Path): Template {
  const t = compileTemplate(text);
  const vars = templateVars(t);
  if (vars.length) ctx.uses.push({ vars, path });
  return t;
}

function headersOf(ctx: RoleCtx, h: Raw | undefined, path: Path): [string, Template][] {
  const out: [string, Template][] = [];
  for (const [name, value] of Object.entries(h ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, tpl(ctx, String(v), [...path, name])]);
  }
  return out;
}

function bodyOf(c: Compiler, ctx: RoleCtx, s: Raw, path: Path, inline: string, fileKey: string): Template | undefined {
  if (s[inline] !== undefined && s[fileKey] !== undefined) c.fail('SCENARIO_INVALID', path, `give '${inline}' or '${fileKey}', not both`, fileKey);
  if (s[inline] !== undefined) return tpl(ctx, String(s[inline]).replace(/\r?\n/g, '\r\n'), [...path, inline]);
  if (s[fileKey] !== undefined) {
    const file = resolve(ctx.baseDir, String(s[fileKey]));
    if (!existsSync(file)) {
      c.fail('SCENARIO_FILE', [...path, fileKey], `body file '${String(s[fileKey])}' not found next to the scenario`);
      return undefined;
    }
    let text: string;
    try {
      text = readInputText(file, 'body');
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
      c.fail(err.code === 'INPUT_TOO_LARGE' ? 'SCENARIO_TOO_LARGE' : 'SCENARIO_FILE', path, `body file '${String(s[fileKey])}' ${err.reason}`, fileKey);
      return undefined;
    }
    return tpl(ctx, text.replace(/\r?\n/g, '\r\n'), [...path, fileKey]);
  }
  return undefined;
}

export function parseCodeSpec(spec: unknown): CodeRanges {
  const items = Array.isArray(spec) ? spec : [spec];
  const out: CodeRanges = [];
  for (const it of items) {
    if (typeof it === 'number') out.push([it, it]);
    else {
      const s = String(it).trim();
      const cls = /^([1-6])xx$/.exec(s);
      if (cls) out.push([Number(cls[1]) * 100, Number(cls[1]) * 100 + 99]);
      else {
        const [a, b] = s.split('-').map((x) => Number(x.trim()));
        out.push([a!, b ?? a!]);
      }
    }
  }
  return out;
}

/** Patterns run in linear time (safe-regex.ts); what needs backtracking is refused here, at its character. */
function checkRegex(c: Compiler, source: string, path: Path): boolean {
  try {
    compileSafeRegex(source);
    return true;
  } catch (err) {
    if (!(err instanceof RegexError)) throw err;
    c.failInValue('SCENARIO_REGEX', path, `bad regular expression /${source}/: ${err.message}`, err.offset);
    return false;
  }
}

/**
 * What a step expects. A header's regular expression and the body text may name variables ('busy-${peer.user}'):
 * they are then kept as templates too, filled in per UA (into a regular expression, escaped to match literally).
 */
function expectationOf(c: Compiler, ctx: RoleCtx, e: unknown, path: Path, fallback: string): Expectation {
  const obj = e !== null && typeof e === 'object' && !Array.isArray(e) ? (e as Raw) : { code: e };
  const spec = obj.code ?? fallback;
  const headers: HeaderCheck[] = [];
  for (const [name, check] of Object.entries((obj.headers as Raw | undefined) ?? {})) {
    if (check === true) headers.push({ name, mode: 'exists' });
    else if (check === false) headers.push({ name, mode: 'absent' });
    else {
      const where = [...path, 'headers', name];
      const t = tpl(ctx, String(check), where);
      // Checked with each variable as a plain word: an escaped value never breaks a valid pattern.
      const probe = t.map((p) => (typeof p === 'string' ? p : 'x')).join('');
      if (checkRegex(c, probe, where)) headers.push({ name, mode: 'regex', regex: String(check), ...(templateVars(t).length ? { regexTemplate: t } : {}) });
    }
  }
  const exp: Expectation = {
    codes: parseCodeSpec(spec),
    text: Array.isArray(spec) ? spec.join(', ') : String(spec),
    headers,
  };
  if (obj.body !== undefined) {
    exp.body = String(obj.body);
    const t = tpl(ctx, exp.body, [...path, 'body']);
    if (templateVars(t).length) exp.bodyTemplate = t;
  }
  return exp;
}

function capturesOf(c: Compiler, ctx: RoleCtx, cap: Raw | undefined, path: Path): Capture[] {
  const out: Capture[] = [];
  for (const [name, spec] of Object.entries(cap ?? {})) {
    const s = spec as Raw;
    const regex = (s.regex as string | undefined) ?? (typeof s.body === 'string' ? (s.body as string) : undefined) ?? (s.message as string | undefined);
    if (regex !== undefined && !checkRegex(c, regex, [...path, name, s.regex !== undefined ? 'regex' : s.message !== undefined ? 'message' : 'body'])) continue;
    if (regex !== undefined && s.body !== undefined && !/\((?!\?)/.test(regex)) {
      c.fail('SCENARIO_REGEX', [...path, name], `capture '${name}': the body regular expression needs a (group) to capture`);
    }
    ctx.captures.add(name);
    out.push({
      name, header: s.header as string | undefined, body: s.body !== undefined, regex,
      ...(s.message !== undefined ? { message: true } : {}),
      ...(s.group !== undefined ? { group: s.group as number } : {}),
      ...(s.optional === true ? { optional: true } : {}),
    });
  }
  return out;
}

function durationOf(v: unknown, dflt: number): number {
  return v === undefined ? dflt : parseDuration(v as string | number)!;
}

function pauseOf(c: Compiler, p: unknown, path: Path): PauseSpec {
  if (typeof p !== 'object' || p === null) return { type: 'fixed', ms: parseDuration(p as string | number)! };
  const o = p as Raw;
  const d = (k: string) => (o[k] !== undefined ? parseDuration(o[k] as string)! : undefined);
  const dist = ((o.distribution as string | undefined) ??
    (o.stddev !== undefined ? 'normal' : o.min !== undefined || o.max !== undefined ? 'uniform' : 'exponential')) as (typeof DISTRIBUTIONS)[number];
  for (const key of Object.keys(o)) {
    if (key !== 'distribution' && !PARAMETERS[dist].includes(key)) {
      c.fail('SCENARIO_PAUSE', path, `${dist === 'exponential' ? 'an' : 'a'} ${dist} pause takes ${PARAMETERS[dist].join(', ')}, not '${key}'`, key);
    }
  }
  const need = (...keys: string[]) => {
    const missing = keys.filter((k) => o[k] === undefined);
    if (missing.length) c.fail('SCENARIO_PAUSE', path, `${dist === 'exponential' ? 'an' : 'a'} ${dist} pause needs ${missing.map((k) => `'${k}'`).join(' and ')}`);
    return missing.length === 0;
  };
  let spec: PauseSpec;
  if (dist === 'fixed') spec = { type: 'fixed', ms: need('value') ? d('value')! : 0 };
  else if (dist === 'uniform') {
    if (o.max === undefined) c.fail('SCENARIO_PAUSE', path, `a uniform pause needs 'max' at least 'min'`);
    spec = { type: 'uniform', min: d('min') ?? 0, max: d('max') ?? d('min') ?? 0 };
  } else if (dist === 'normal' || dist === 'lognormal') {
    need('mean', 'stddev');
    spec = { type: dist, mean: d('mean') ?? 1, stddev: d('stddev') ?? 0 };
  } else if (dist === 'exponential') {
    need('mean');
    spec = { type: 'exponential', mean: d('mean') ?? 1 };
  } else {
    const shape = typeof o.shape === 'number' ? o.shape : 1;
    if (o.shape === undefined) need('shape');
    if (o.scale !== undefined && o.mean !== undefined) c.fail('SCENARIO_PAUSE', path, `a pareto pause takes 'scale' or 'mean', not both`, 'mean');
    else if (o.scale === undefined && o.mean === undefined) c.fail('SCENARIO_PAUSE', path, `a pareto pause needs 'scale' (its shortest pause) or 'mean'`);
    if (o.mean !== undefined && shape <= 1) {
      c.fail('SCENARIO_PAUSE', path, `a pareto pause of shape ${shape} has no finite mean: give 'scale' instead, or a shape above 1`, 'shape');
    }
    const scale = o.mean !== undefined ? (shape > 1 ? paretoScaleFor(shape, d('mean')!) : 1) : (d('scale') ?? 1);
    spec = { type: 'pareto', shape, scale };
  }
  const problem = o.max === undefined && dist === 'uniform' ? undefined : distributionProblem(spec);
  if (problem) c.fail('SCENARIO_PAUSE', path, problem);
  return spec;
}

function flatten(c: Compiler, ctx: RoleCtx, steps: Raw[], path: Path): void {
  steps.forEach((s, i) => {
    const p: Path = [...path, i];
    const at = c.pos(p);
    const base = { ...at, metric: -1 };
    if (s.send !== undefined) {
      const method = s.send as string;
      const slot = metricSlot(ctx, (s.id as string | undefined) ?? method);
      const async = s.async === true;
      if (async && method !== 'INVITE') c.fail('SCENARIO_INVALID', p, `'async' is for INVITE only`, 'async');
      if (async) {
        if (!s.id) c.fail('SCENARIO_INVALID', p, `an async INVITE needs an 'id' for its 'await' step`, 'async');
        else ctx.asyncIds.set(s.id as string, true);
      }
      if (method === 'CANCEL' && ![...ctx.asyncIds.keys()].length) {
        c.fail('SCENARIO_INVALID', p, `CANCEL needs an earlier INVITE with 'async: true' to cancel`);
      }
      const step: CompiledStep = {
        kind: 'send', ...base, metric: slot.metric, name: slot.name, method,
        uri: s.uri !== undefined ? tpl(ctx, String(s.uri), [...p, 'uri']) : undefined,
        to: s.to !== undefined ? tpl(ctx, String(s.to), [...p, 'to']) : undefined,
        headers: headersOf(ctx, s.headers as Raw | undefined, [...p, 'headers']),
        body: bodyOf(c, ctx, s, p, 'body', 'bodyFile'),
        contentType: s.contentType as string | undefined,
        expect: expectationOf(c, ctx, s.expect, [...p, 'expect'], '2xx'),
        timeoutMs: durationOf(s.timeout, 32_000),
        auth: s.auth !== false,
        dialog: s.dialog as boolean | undefined,
        async,
        asyncId: async ? (s.id as string) : undefined,
        optional: s.optional === true,
        capture: capturesOf(c, ctx, s.capture as Raw | undefined, [...p, 'capture']),
        on: [],
        ...(s.direction !== undefined ? { direction: s.direction as SendStep['direction'] } : {}),
      };
      if (s.direction !== undefined && method !== 'INVITE') c.fail('SCENARIO_INVALID', p, `'direction' is for INVITE only (the direction of its SDP offer)`, 'direction');
      for (const [codeText, label] of Object.entries((s.on as Record<string, string> | undefined) ?? {})) {
        const entry = { codes: parseCodeSpec(codeText), target: -1 };
        step.on.push(entry);
        ctx.gotos.push({ label, path: [...p, 'on', codeText], set: (t) => (entry.target = t) });
      }
      ctx.steps.push(step);
    } else if (s.recv !== undefined) {
      const method = s.recv as string;
      const slot = metricSlot(ctx, (s.id as string | undefined) ?? `recv ${method}`);
      const reply = s.reply === undefined ? (method === 'ACK' ? [] : [200]) : Array.isArray(s.reply) ? (s.reply as number[]) : [s.reply as number];
      if (method === 'ACK' && reply.length > 0) c.fail('SCENARIO_INVALID', p, `an ACK is never answered: remove 'reply'`, 'reply');
      if (reply.slice(0, -1).some((r) => r >= 200)) c.fail('SCENARIO_INVALID', [...p, 'reply'], `only the last reply may be final (2xx-6xx); the others must be 1xx`);
      ctx.steps.push({
        kind: 'recv', ...base, metric: slot.metric, name: slot.name, method,
        timeoutMs: durationOf(s.timeout, 32_000),
        expect: expectationOf(c, ctx, s.expect, [...p, 'expect'], '1xx-6xx'),
        reply,
        replyBody: bodyOf(c, ctx, s, p, 'replyBody', 'replyBodyFile'),
        replyContentType: s.replyContentType as string | undefined,
        replyHeaders: headersOf(ctx, s.replyHeaders as Raw | undefined, [...p, 'replyHeaders']),
        optional: s.optional === true,
        capture: capturesOf(c, ctx, s.capture as Raw | undefined, [...p, 'capture']),
        rrs: s.rrs === true,
      });
      receiveFlow(ctx, s, p, ctx.steps[ctx.steps.length - 1] as RecvStep);
    } else if (s.response !== undefined) {
      const codes = parseCodeSpec(s.response);
      const text = Array.isArray(s.response) ? s.response.join(', ') : String(s.response);
      const slot = metricSlot(ctx, (s.id as string | undefined) ?? `response ${text}`);
      ctx.steps.push({
        kind: 'response', ...base, metric: slot.metric, name: slot.name, codes, text,
        timeoutMs: durationOf(s.timeout, 32_000),
        optional: s.optional === true,
        capture: capturesOf(c, ctx, s.capture as Raw | undefined, [...p, 'capture']),
        rrs: s.rrs === true,
      });
      receiveFlow(ctx, s, p, ctx.steps[ctx.steps.length - 1] as ResponseStep);
    } else if (s.set !== undefined) {
      ctx.steps.push({ kind: 'set', ...base, ops: setOps(ctx, s.set as Raw, [...p, 'set']) });
    } else if (s.raw !== undefined) {
      const slot = metricSlot(ctx, (s.id as string | undefined) ?? 'raw');
      ctx.steps.push({
        kind: 'raw', ...base, metric: slot.metric, name: slot.name,
        text: tpl(ctx, String(s.raw).replace(/\r?\n/g, '\r\n'), [...p, 'raw']),
        expect: expectationOf(c, ctx, s.expect, [...p, 'expect'], '1xx-6xx'),
        timeoutMs: durationOf(s.timeout, 5_000),
        optional: s.optional === true,
        wait: s.wait !== false,
      });
    } else if (s.await !== undefined) {
      const id = s.await as string;
      if (!ctx.asyncIds.has(id)) c.fail('SCENARIO_INVALID', [...p, 'await'], `'await: ${id}' names no earlier step with 'async: true' and id '${id}'`);
      const slot = metricSlot(ctx, `${id} final`);
      ctx.steps.push({
        kind: 'await', ...base, metric: slot.metric, name: slot.name, asyncId: id,
        expect: expectationOf(c, ctx, s.expect, [...p, 'expect'], '2xx'),
        timeoutMs: durationOf(s.timeout, 32_000),
      });
    } else if (s.pause !== undefined) {
      ctx.steps.push({ kind: 'pause', ...base, pause: pauseOf(c, s.pause, [...p, 'pause']) });
    } else if (s.loop !== undefined) {
      const loop = s.loop as Raw;
      const slot = ctx.loopSlots++;
      ctx.steps.push({ kind: 'loop-enter', ...base, slot, count: loop.count as number });
      const bodyStart = ctx.steps.length;
      flatten(c, ctx, loop.steps as Raw[], [...p, 'loop', 'steps']);
      ctx.steps.push({ kind: 'loop-next', ...base, slot, target: bodyStart });
    } else if (s.label !== undefined) {
      const label = s.label as string;
      if (ctx.labels.has(label)) c.fail('SCENARIO_LABEL', [...p, 'label'], `label '${label}' is defined twice`);
      ctx.labels.set(label, ctx.steps.length);
      ctx.steps.push({ kind: 'label', ...base, label });
    } else if (s.goto !== undefined) {
      const step: CompiledStep = { kind: 'goto', ...base, target: -1, ...(s.if !== undefined ? { if: s.if as string } : {}) };
      ctx.steps.push(step);
      ctx.gotos.push({ label: s.goto as string, path: [...p, 'goto'], set: (t) => (step.target = t) });
    } else if (s.dtmf !== undefined) {
      const slot = metricSlot(ctx, (s.id as string | undefined) ?? 'dtmf');
      ctx.steps.push({ kind: 'dtmf', ...base, metric: slot.metric, name: slot.name, digits: String(s.dtmf), timeoutMs: durationOf(s.timeout, 10_000) });
    } else {
      c.fail('SCENARIO_SCHEMA', p, `${describePath(p)} must have one of: send, recv, response, raw, await, pause, loop, label, goto, set, dtmf`);
    }
  });
}

/** A receive step's flow keys: `next` (with `if`), `onTimeout`, `rrs`; labels resolved with the gotos. */
function receiveFlow(ctx: RoleCtx, s: Raw, p: Path, flow: RecvStep | ResponseStep): void {
  if (s.next !== undefined) {
    ctx.gotos.push({ label: s.next as string, path: [...p, 'next'], set: (t) => (flow.next = t) });
    if (s.if !== undefined) flow.nextIf = s.if as string;
  }
  if (s.onTimeout !== undefined) ctx.gotos.push({ label: s.onTimeout as string, path: [...p, 'onTimeout'], set: (t) => (flow.onTimeout = t) });
}

/** A set step's assignments; the variables it sets are known to the later templates, as captures are. */
function setOps(ctx: RoleCtx, set: Raw, path: Path): SetOp[] {
  const ops: SetOp[] = [];
  for (const [name, v] of Object.entries(set)) {
    const at = [...path, name];
    ctx.captures.add(name);
    if (v === null || typeof v !== 'object') {
      ops.push({ name, op: 'assign', value: tpl(ctx, String(v), at) });
      continue;
    }
    const [[op, arg]] = Object.entries(v as Raw) as [[string, unknown]];
    if (op === 'compare') {
      const [l, cmp, r] = arg as [unknown, '==' | '!=' | '<' | '<=' | '>' | '>=', unknown];
      ops.push({ name, op: 'compare', left: tpl(ctx, String(l), [...at, 'compare']), cmp, right: tpl(ctx, String(r), [...at, 'compare']) });
    } else ops.push({ name, op: op as 'add' | 'subtract' | 'multiply' | 'divide', value: tpl(ctx, String(arg), [...at, op]) });
  }
  return ops;
}

export function loadScenarioFile(path: string, opts: CompileOptions = {}): CompiledScenario {
  let text: string;
  try {
    text = readInputText(path, 'scenario');
  } catch (err) {
    if (!(err instanceof InputFileError)) throw err;
    throw new ScenarioError(err.code === 'INPUT_TOO_LARGE' ? 'SCENARIO_TOO_LARGE' : 'SCENARIO_UNREADABLE', path, 1, 1, err.reason.startsWith('is ') ? `this file ${err.reason}` : err.reason);
  }
  return compileScenarioText(text, path, opts);
}
