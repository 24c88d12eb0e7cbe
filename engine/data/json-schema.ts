// The JSON Schema validators of the files sipstorm reads (scenarios, saved
// results). ajv compiles a schema into code at about 200 ms of CPU, most of a
// short run's fixed cost, so the build (`npm run build`, the Dockerfile) writes
// each validator's code once (ajv standalone) into dist/schemas/NAME.validate.cjs,
// stamped with a hash of its schema's text, its ajv options and ajv's version;
// a command loads that file (a few ms) and compiles with ajv only when the file
// is missing, unreadable or stamped for another schema (a plain `tsc` build, a
// schema edited since): the same validator either way, the same errors.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Options, ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);

/** Each schema with the ajv options its reader needs (scenario errors are all listed, with the schema they broke). */
export const SCHEMAS = {
  scenario: { file: 'scenario.schema.json', options: { allErrors: true, strict: false, verbose: true } },
  result: { file: 'result.schema.json', options: { strict: false } },
} satisfies Record<string, { file: string; options: Options }>;
export type SchemaName = keyof typeof SCHEMAS;

const SCHEMA_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));
/** dist/schemas: beside the compiled code, since it is built with it. */
export const VALIDATOR_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

export interface SchemaValidator {
  validate: ValidateFunction;
  /** True when the build's code was loaded, false when ajv compiled the schema in this process. */
  prebuilt: boolean;
}

function stampOf(name: SchemaName, text: string): string {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  return createHash('sha256').update(`${ajvVersion}\n${JSON.stringify(SCHEMAS[name].options)}\n${text}`).digest('hex');
}

/** The validator of a schema: the build's code when it was built from this very schema, else compiled by ajv now. */
export function schemaValidator(name: SchemaName, dir = VALIDATOR_DIR): SchemaValidator {
  const text = readFileSync(join(SCHEMA_DIR, SCHEMAS[name].file), 'utf8');
  const stamp = stampOf(name, text);
  try {
    const built = require(join(dir, `${name}.validate.cjs`)) as ValidateFunction & { stamp?: unknown };
    if (typeof built === 'function' && built.stamp === stamp) return { validate: built, prebuilt: true };
  } catch {
    // Missing or broken: compiled below, as before there was a build step.
  }
  const Ajv = require('ajv') as typeof import('ajv').default;
  return { validate: new Ajv(SCHEMAS[name].options).compile(JSON.parse(text) as object), prebuilt: false };
}

/** Writes every schema's validator code into `dir` (the build step); returns the files written. */
export function writeValidators(dir = VALIDATOR_DIR): string[] {
  const Ajv = require('ajv') as typeof import('ajv').default;
  const standalone = require('ajv/dist/standalone') as { default: (ajv: InstanceType<typeof Ajv>, v: ValidateFunction) => string };
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const name of Object.keys(SCHEMAS) as SchemaName[]) {
    const text = readFileSync(join(SCHEMA_DIR, SCHEMAS[name].file), 'utf8');
    const ajv = new Ajv({ ...SCHEMAS[name].options, code: { source: true } });
    const code = standalone.default(ajv, ajv.compile(JSON.parse(text) as object));
    const file = join(dir, `${name}.validate.cjs`);
    // ajv's CommonJS module exports the function itself; its stamp goes on it.
    writeFileSync(`${file}.tmp`, `${code}\nmodule.exports.stamp = ${JSON.stringify(stampOf(name, text))};\n`);
    renameSync(`${file}.tmp`, file);
    written.push(file);
  }
  return written;
}
