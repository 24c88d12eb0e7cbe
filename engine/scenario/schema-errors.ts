// Turns ajv's errors into one sentence a VoIP engineer understands, naming the
// step and the key, and picks the most relevant error when oneOf branches
// produce many (the branch of the step's own kind wins).

import type { ErrorObject } from 'ajv';

const STEP_KINDS = ['send', 'recv', 'response', 'raw', 'await', 'pause', 'loop', 'label', 'goto', 'set', 'dtmf'];
const DURATION_KEYS = new Set(['timeout', 'duration', 'gracefulStop', 'thinkTime', 'pause', 'min', 'max', 'mean', 'stddev', 'scale', 'value']);

export interface FriendlyError {
  path: (string | number)[];
  message: string;
}

function pathOf(e: ErrorObject): (string | number)[] {
  return e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** 'step 3', 'role caller step 2', 'step 2.1' (a step inside a loop). */
export function describePath(path: (string | number)[]): string {
  const parts: string[] = [];
  let role: string | undefined;
  const stepNums: number[] = [];
  let key: string | undefined;
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    if (p === 'roles' && typeof path[i + 1] === 'string') {
      role = path[++i] as string;
    } else if (p === 'steps' && typeof path[i + 1] === 'number') {
      stepNums.push((path[++i] as number) + 1);
    } else if (p === 'loop') {
      continue;
    } else if (typeof p === 'string') {
      key = key ? `${key}.${p}` : p;
    } else if (key) {
      key = `${key}[${p}]`;
    }
  }
  if (role) parts.push(`role '${role}'`);
  if (stepNums.length) parts.push(`step ${stepNums.join('.')}`);
  if (key) parts.push(`'${key}'`);
  return parts.join(' ') || 'the scenario';
}

function stepKindAt(data: unknown, path: (string | number)[]): { kind?: string; depth: number } {
  let node: unknown = data;
  let found: { kind?: string; depth: number } = { depth: -1 };
  for (let i = 0; i < path.length; i++) {
    if (node === null || typeof node !== 'object') break;
    node = (node as Record<string | number, unknown>)[path[i]!];
    if (path[i - 1] === 'steps' && typeof path[i] === 'number' && node && typeof node === 'object') {
      found = { kind: STEP_KINDS.find((k) => k in (node as object)), depth: i };
    }
  }
  return found;
}

function lastKey(path: (string | number)[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return undefined;
}

function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = o;
    }
  }
  return bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) dp[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i]![j] = Math.min(dp[i - 1]![j]! + 1, dp[i]![j - 1]! + 1, dp[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length]![b.length]!;
}

export function friendlyErrors(errors: ErrorObject[], data: unknown): FriendlyError[] {
  // Keep, for each step, only the errors of the branch matching the step's kind.
  const relevant = errors.filter((e) => {
    if (e.keyword === 'oneOf' || e.keyword === 'if' || e.keyword === 'anyOf') return false;
    const path = pathOf(e);
    const { kind } = stepKindAt(data, path);
    // Which step kind the failing schema describes: its required key (send, recv, ...).
    const required = ((e.parentSchema as { required?: string[] } | undefined)?.required ?? []) as string[];
    const schemaKind = required.find((k) => STEP_KINDS.includes(k));
    if (kind && schemaKind && schemaKind !== kind) return false;
    return true;
  });
  let pool = relevant.length ? relevant : errors;
  // A oneOf between a text and a mapping: when the value is a mapping with its own errors,
  // the "must be a string" of the other branch is noise.
  const deeper = (e: ErrorObject) => pool.some((o) => o !== e && o.instancePath.startsWith(e.instancePath + '/'));
  pool = pool.filter((e) => !(e.keyword === 'type' && deeper(e)));
  // A step with no known kind at all: say so.
  for (const e of pool) {
    const path = pathOf(e);
    const { kind, depth } = stepKindAt(data, path);
    if (depth >= 0 && !kind && path.length === depth + 1) {
      return [{ path: path.slice(0, depth + 1), message: `${describePath(path.slice(0, depth + 1))} must have one of: ${STEP_KINDS.join(', ')}` }];
    }
  }
  const sorted = [...pool].sort((a, b) => pathOf(b).length - pathOf(a).length);
  const out: FriendlyError[] = [];
  const seen = new Set<string>();
  for (const e of sorted) {
    const f = friendly(e, data);
    const key = f.path.join('/');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

function friendly(e: ErrorObject, data: unknown): FriendlyError {
  let path = pathOf(e);
  const key = lastKey(path);
  const where = describePath(path);
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const extra = String(p.additionalProperty);
    path = [...path, extra];
    const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
    const hint = closest(extra, allowed);
    return { path, message: `${describePath(path.slice(0, -1))} has an unknown key '${extra}'${hint ? ` (did you mean '${hint}'?)` : ''}` };
  }
  if (e.keyword === 'required') return { path, message: `${where} is missing '${String(p.missingProperty)}'` };
  if (e.keyword === 'minItems') return { path, message: `${where} must not be empty` };
  if (e.keyword === 'minProperties') return { path, message: `${where} must not be empty` };
  const inExpect = path.includes('expect') && !['headers', 'body'].some((k) => path.includes(k));
  if (inExpect || key === 'code') return { path: cut(path, 'expect'), message: `${describePath(cut(path, 'expect'))} must be a code, a class like 2xx, or a list of them` };
  if (key === 'reply') return { path, message: `${where} must be a response code 100..699 or a list of them` };
  if (path.includes('reply')) return { path: cut(path, 'reply'), message: `${describePath(cut(path, 'reply'))} must be a response code 100..699 or a list of them` };
  if (key && DURATION_KEYS.has(key)) {
    return { path, message: `${where} must be a duration like 500ms, 2s or 1m${key === 'pause' ? ', or {min, max} / {mean, stddev}' : ''}` };
  }
  if ((key === 'send' || key === 'recv') && e.keyword === 'pattern') {
    const v = valueAt(data, path);
    const upper = typeof v === 'string' && /^[a-z]/.test(v) ? ` (methods are upper case: '${v.toUpperCase()}')` : '';
    return { path, message: `${where} must be a SIP method such as INVITE or SERVICE${upper}` };
  }
  if (key === 'send' || key === 'recv') return { path, message: `${where} must be a SIP method such as INVITE or SERVICE` };
  if (e.keyword === 'type' && path[0] === 'thresholds' && path.length === 2) return { path, message: `${where} must be a text like 'step.REGISTER.p99 < 200ms'` };
  if (e.keyword === 'type') return { path, message: `${where} must be ${article(String(p.type))}` };
  if (e.keyword === 'enum') return { path, message: `${where} must be one of: ${(p.allowedValues as unknown[]).join(', ')}` };
  if (e.keyword === 'minimum' || e.keyword === 'exclusiveMinimum') return { path, message: `${where} must be ${e.keyword === 'minimum' ? 'at least' : 'more than'} ${String(p.limit)}` };
  if (e.keyword === 'maximum') return { path, message: `${where} must be at most ${String(p.limit)}` };
  if (e.keyword === 'pattern' && (key === 'id' || key === 'label')) return { path, message: `${where} must be a name of letters, digits, '-' and '_' starting with a letter` };
  if (e.keyword === 'propertyNames' || (e.keyword === 'pattern' && path.includes('on'))) return { path, message: `${where} keys must be codes or classes like 486 or 4xx` };
  return { path, message: `${where} ${e.message ?? 'is invalid'}` };
}

function cut(path: (string | number)[], key: string): (string | number)[] {
  const i = path.indexOf(key);
  return i >= 0 ? path.slice(0, i + 1) : path;
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let node = data;
  for (const p of path) node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[p] : undefined;
  return node;
}

function article(type: string): string {
  const t = type.replace(/,/g, ' or ');
  if (t === 'integer') return 'a whole number';
  if (t === 'array') return 'a list';
  if (t === 'object') return 'a mapping (key: value)';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
