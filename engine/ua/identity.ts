// The identity pool of simulated UAs: user name, password and domain for UA
// index n (1-based), from patterns ('user{n}', 'secret{n}') or a CSV file.
// Passwords are held here and nowhere else; reporters never see them.

import { SipstormError } from '../errors.js';
import { readInputText, type InputFileError } from '../input-file.js';

export interface Identity {
  index: number;
  user: string;
  password: string;
  domain?: string;
  /** Extra CSV columns, usable as ${name} in templates. */
  fields: Record<string, string>;
}

export class CsvError extends SipstormError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** Expands '{n}' (and '{n+K}' offsets, '{n:05}' zero padding) in a pattern for index n. */
export function expandPattern(pattern: string, n: number): string {
  return pattern.replace(/\{n(?:([+-]\d+))?(?::(0\d+))?\}/g, (_m, offset: string | undefined, pad: string | undefined) => {
    const value = n + (offset ? Number(offset) : 0);
    return pad ? String(value).padStart(Number(pad), '0') : String(value);
  });
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
  return {
    size: Infinity,
    get(index) {
      return { index, user: expandPattern(user, index), password: expandPattern(password, index), domain, fields: NO_FIELDS };
    },
    secrets() {
      return password.includes('{n') ? [] : [password];
    },
  };
}

/**
 * CSV: a header line naming the columns; 'user' (or 'username') is required,
 * 'password' and 'domain' are optional. Fields may be double-quoted.
 */
export function csvIdentities(file: string, fallbackPassword?: string): IdentitySource {
  let text: string;
  try {
    text = readInputText(file, 'csv');
  } catch (err) {
    const e = err as InputFileError;
    if (e.code === 'INPUT_MISSING') throw new CsvError('CSV_UNREADABLE', `${file}: cannot read users CSV (ENOENT)`);
    throw new CsvError(e.code === 'INPUT_TOO_LARGE' ? 'CSV_TOO_LARGE' : 'CSV_UNREADABLE', `${file}: users CSV ${e.reason ?? e.message}`);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new CsvError('CSV_EMPTY', `${file}: users CSV is empty`);
  const header = splitCsvLine(lines[0]!).map((h) => h.trim().toLowerCase());
  const userCol = header.findIndex((h) => h === 'user' || h === 'username');
  if (userCol < 0) throw new CsvError('CSV_MISSING_COLUMN', `${file}:1: users CSV needs a 'user' column (found: ${header.join(', ')})`);
  const passCol = header.indexOf('password');
  if (passCol < 0 && fallbackPassword === undefined) {
    throw new CsvError('CSV_MISSING_COLUMN', `${file}:1: users CSV needs a 'password' column, or give --password / --password-env`);
  }
  const domainCol = header.indexOf('domain');
  const rows: Identity[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = splitCsvLine(lines[i]!);
    if (cells.length !== header.length) {
      throw new CsvError('CSV_BAD_ROW', `${file}:${i + 1}: expected ${header.length} columns, found ${cells.length}`);
    }
    const fields: Record<string, string> = {};
    header.forEach((h, c) => (fields[h] = cells[c]!));
    const user = cells[userCol]!;
    if (user === '') throw new CsvError('CSV_BAD_ROW', `${file}:${i + 1}: empty user`);
    rows.push({
      index: i,
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

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',' || ch === ';') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((c) => c.trim());
}
