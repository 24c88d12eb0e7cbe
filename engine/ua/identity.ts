// The identity pool of simulated UAs: user name, password and domain for UA
// index n (1-based), from patterns ('user{n}', 'secret{n}') or a CSV file.
// Passwords are held here and nowhere else; reporters never see them.

import { CsvError, readCsvFile } from '../data/csv.js';

export { CsvError };

export interface Identity {
  index: number;
  user: string;
  password: string;
  domain?: string;
  /** Extra CSV columns, usable as ${name} in templates. */
  fields: Record<string, string>;
}

const N_REF = /\{n(?:([+-]\d+))?(?::(0\d+))?\}/g;

/** A pattern cut into its text and its '{n}' references once, so that naming each new UA is a join, not a regular expression. */
type PatternPart = string | { offset: number; pad: number };

function compilePattern(pattern: string): PatternPart[] {
  const parts: PatternPart[] = [];
  let last = 0;
  for (const m of pattern.matchAll(N_REF)) {
    if (m.index > last) parts.push(pattern.slice(last, m.index));
    parts.push({ offset: m[1] ? Number(m[1]) : 0, pad: m[2] ? Number(m[2]) : 0 });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) parts.push(pattern.slice(last));
  return parts;
}

function expandParts(parts: PatternPart[], n: number): string {
  if (parts.length === 1 && typeof parts[0] === 'string') return parts[0];
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else {
      const value = String(n + p.offset);
      out += p.pad ? value.padStart(p.pad, '0') : value;
    }
  }
  return out;
}

/** Expands '{n}' (and '{n+K}' offsets, '{n:05}' zero padding) in a pattern for index n. */
export function expandPattern(pattern: string, n: number): string {
  return expandParts(compilePattern(pattern), n);
}

export interface IdentitySource {
  /** Number of identities, Infinity for patterns. */
  readonly size: number;
  get(index: number): Identity;
  /** Every password this source can hand out that is known up front (for redaction). */
  secrets(): string[];
}

/** Pattern identities have no extra columns: one empty record shared by all of them. */
const NO_FIELDS: Record<string, string> = Object.freeze({}) as Record<string, string>;

export function patternIdentities(user: string, password: string, domain?: string): IdentitySource {
  const userParts = compilePattern(user);
  const passwordParts = compilePattern(password);
  return {
    size: Infinity,
    get(index) {
      return { index, user: expandParts(userParts, index), password: expandParts(passwordParts, index), domain, fields: NO_FIELDS };
    },
    secrets() {
      return password.includes('{n') ? [] : [password];
    },
  };
}

/**
 * CSV (RFC 4180, engine/data/csv.ts): a header line naming the columns in any order; 'user' (or 'username') is
 * required, 'password' and 'domain' are optional.
 */
export function csvIdentities(file: string, fallbackPassword?: string): IdentitySource {
  const { header, headerLine, rows: records } = readCsvFile(file, 'users CSV');
  const userCol = header.findIndex((h) => h === 'user' || h === 'username');
  if (userCol < 0) throw new CsvError('CSV_MISSING_COLUMN', `${file}:${headerLine}: users CSV needs a 'user' column (found: ${header.join(', ')})`);
  const passCol = header.indexOf('password');
  if (passCol < 0 && fallbackPassword === undefined) {
    throw new CsvError('CSV_MISSING_COLUMN', `${file}:${headerLine}: users CSV needs a 'password' column, or give --password / --password-env`);
  }
  const domainCol = header.indexOf('domain');
  const rows: Identity[] = [];
  for (const [i, record] of records.entries()) {
    const cells = record.cells;
    const fields: Record<string, string> = {};
    header.forEach((h, c) => (fields[h] = cells[c]!));
    const user = cells[userCol]!;
    if (user === '') throw new CsvError('CSV_BAD_ROW', `${file}:${record.line}: empty user`);
    rows.push({
      index: i + 1,
      user,
      password: passCol >= 0 ? cells[passCol]! : fallbackPassword!,
      domain: domainCol >= 0 && cells[domainCol] ? cells[domainCol] : undefined,
      fields,
    });
  }
  if (rows.length === 0) throw new CsvError('CSV_EMPTY', `${file}: users CSV has a header but no users`);
  return {
    size: rows.length,
    get(index) {
      // Index n is 1-based; more UAs than rows wrap around, as SIPp's -inf does.
      return rows[(index - 1) % rows.length]!;
    },
    secrets() {
      return rows.map((r) => r.password).filter((p) => p.length > 0);
    },
  };
}
