// Loads the conformance suites shipped in scenarios/conformance/: `torture`
// (the RFC 4475 messages byte for byte, with expect.tsv saying what a
// compliant registrar/UAS answers) and YAML suites of templated requests
// (rfc3261.yaml). A suite file is part of the tool, but a user may point
// --suite-dir elsewhere, so problems are one clear line, never a stack trace.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { SipstormError } from '../errors.js';
import { parseExpectation, type Expectation } from './expectation.js';

export interface SuiteCase {
  id: string;
  rfc: string;
  section: string;
  title: string;
  expect: Expectation;
  /** Headers the answer must carry when it is a final one (420 Unsupported, 415 Accept...). */
  headers: string[];
  /** The message: exact bytes (torture), or a template whose ${...} are filled in before sending. */
  bytes?: Buffer;
  template?: string;
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
    for (const line of readFileSync(index, 'utf8').split('\n').slice(1)) {
      const [file, section] = line.split('\t');
      if (file && section) sections.set(file, section);
    }
  }
  const file = join(dir, 'expect.tsv');
  const cases = readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .map((line, i) => ({ line, no: i + 2 }))
    .filter(({ line }) => line.trim())
    .map(({ line, no }): SuiteCase => {
      const [msgFile, expect, why] = line.split('\t');
      if (!msgFile || !expect) throw new SuiteError(`${file}:${no}: expected 'file<TAB>expect<TAB>why'`);
      const path = join(dir, msgFile);
      if (!existsSync(path)) throw new SuiteError(`${file}:${no}: no message file ${msgFile}`);
      return { id: msgFile, rfc: 'RFC 4475', section: sections.get(msgFile) ?? '?', title: why ?? '', expect: at(file, no, expect), headers: [], bytes: readFileSync(path) };
    });
  return { name, file: dir, cases };
}

function loadYamlSuite(file: string, name: string): Suite {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SuiteError(`${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = (doc as { cases?: unknown } | null)?.cases;
  if (!Array.isArray(list)) throw new SuiteError(`${file}: expected a list under 'cases'`);
  const cases = list.map((c: Record<string, unknown>, i): SuiteCase => {
    const where = `${file}: case ${i + 1}`;
    if (typeof c?.expect === 'number') c.expect = String(c.expect);
    for (const key of ['id', 'rfc', 'section', 'title', 'expect', 'message']) {
      if (typeof c?.[key] !== 'string') throw new SuiteError(`${where}: '${key}' must be a string`);
    }
    const headers = c.headers ?? [];
    if (!Array.isArray(headers) || headers.some((h) => typeof h !== 'string')) throw new SuiteError(`${where}: 'headers' must be a list of header names`);
    return { id: c.id as string, rfc: c.rfc as string, section: c.section as string, title: c.title as string, expect: at(where, 0, c.expect as string), headers: headers as string[], template: c.message as string };
  });
  return { name: (doc as { name?: string }).name ?? name, file, cases };
}

function at(file: string, line: number, text: string): Expectation {
  try {
    return parseExpectation(text);
  } catch (err) {
    throw new SuiteError(`${file}${line ? `:${line}` : ''}: ${(err as Error).message}`);
  }
}
