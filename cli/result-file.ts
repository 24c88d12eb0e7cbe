// Saved results read back by `sipstorm merge` and `sipstorm report`: a regular
// file within the size limit, JSON (a syntax error names its line and
// column), the result schema (schemas/result.schema.json; the first problem
// named by its JSON path), and histograms that decode (named by their JSON
// path). Any of these failing is bad input: one line, exit 2.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { UsageError } from './args.js';
import { readInputText } from '../engine/input-file.js';
import { findBadHistogram, type RunResult } from '../engine/metrics/index.js';

const require = createRequire(import.meta.url);
let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  if (!validator) {
    const Ajv = require('ajv') as typeof import('ajv').default;
    const schema = JSON.parse(readFileSync(new URL('../../schemas/result.schema.json', import.meta.url), 'utf8')) as object;
    validator = new Ajv({ strict: false }).compile(schema);
  }
  return validator;
}

/** "line 3 column 7" of a JSON.parse error's character position, when the message has one. */
function jsonSyntaxError(file: string, text: string, err: Error): UsageError {
  const first = err.message.split('\n')[0]!;
  const m = /at position (\d+)/.exec(first);
  if (!m) return new UsageError(`${file}: not valid JSON (${first})`);
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const col = Number(m[1]) - before.lastIndexOf('\n');
  return new UsageError(`${file}:${line}:${col}: not valid JSON (${first.replace(/ in JSON at position \d+.*$/, '')})`);
}

export function readResultFile(file: string): RunResult {
  const text = readInputText(file, 'result');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw jsonSyntaxError(file, text, err as Error);
  }
  const v = validate();
  if (!v(data)) throw new UsageError(`${file}: not a sipstorm result (${v.errors?.[0]?.instancePath || '/'} ${v.errors?.[0]?.message})`);
  const bad = findBadHistogram(data);
  if (bad) throw new UsageError(`${file}: ${bad.path}: ${bad.reason}`);
  return data as RunResult;
}
