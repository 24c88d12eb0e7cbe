// Saved results read back by `sipstorm merge` and `sipstorm report`: a regular
// file within the size limit, JSON (a syntax error names its line and
// column), the result schema (schemas/result.schema.json; the first problem
// named by its JSON path), and histograms that decode (named by their JSON
// path). Any of these failing is bad input: one line, exit 2.

import type { ValidateFunction } from 'ajv';
import { UsageError } from './args.js';
import { readInputText } from '../engine/input-file.js';
import { schemaValidator } from '../engine/data/json-schema.js';
import { findBadHistogram, type RunResult } from '../engine/metrics/index.js';

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  validator ??= schemaValidator('result').validate;
  return validator;
}

/** A JSON.parse error as file:line:col (when V8 gives the position) and its words, without V8's quote of the file's text. */
function jsonSyntaxError(file: string, text: string, err: Error): UsageError {
  const message = err.message.replace(/, ".*" is not valid JSON$/s, '').replace(/\s+/g, ' ');
  const m = /^(.*?) in JSON at position (\d+)/.exec(message);
  const offset = m ? Number(m[2]) : /end of JSON input/.test(message) ? text.length : undefined;
  if (offset === undefined) return new UsageError(`${file}: not valid JSON (${message})`);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return new UsageError(`${file}:${line}:${col}: not valid JSON (${m ? m[1] : message})`);
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
