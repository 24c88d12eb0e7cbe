// The schema validators built ahead (engine/data/json-schema.ts): the build's
// code is used only when stamped for this schema, and it says exactly what
// ajv's compile of the same schema says, valid or not, with the same errors,
// over every bundled scenario, every bad-scenario fixture and saved results.

import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { schemaValidator, writeValidators, type SchemaName } from '../../engine/data/json-schema.js';
import { ROOT } from '../support/cli.js';

// Under the project, where the built code finds ajv's runtime helpers, as in dist/schemas.
const built = mkdtempSync(join(ROOT, 'dist', 'test-validators-'));
const empty = mkdtempSync(join(tmpdir(), 'sipstorm-no-validators-'));
t.teardown(() => {
  rmSync(built, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});
const files = writeValidators(built);

t.test('the build writes one validator per schema, and a command loads it', async (t) => {
  t.same(files.map((f) => f.slice(built.length + 1)).sort(), ['result.validate.cjs', 'scenario.validate.cjs']);
  for (const name of ['scenario', 'result'] as SchemaName[]) {
    t.equal(schemaValidator(name, built).prebuilt, true, `${name}: built code loaded`);
    t.equal(schemaValidator(name, empty).prebuilt, false, `${name}: no build, compiled by ajv`);
  }
});

t.test('a validator stamped for another schema, or broken, is not used: ajv compiles the schema', async (t) => {
  const dir = mkdtempSync(join(ROOT, 'dist', 'test-stale-validators-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const code = readFileSync(join(built, 'scenario.validate.cjs'), 'utf8');
  writeFileSync(join(dir, 'scenario.validate.cjs'), code.replace(/module\.exports\.stamp = "[0-9a-f]+"/, 'module.exports.stamp = "0"'));
  t.equal(schemaValidator('scenario', dir).prebuilt, false, 'stale stamp');
  writeFileSync(join(dir, 'result.validate.cjs'), 'module.exports = (;\n');
  const v = schemaValidator('result', dir);
  t.equal(v.prebuilt, false, 'syntax error');
  t.equal(v.validate({}), false, 'the compiled validator works');
});

type Test = Pick<typeof t, 'equal' | 'same'>;

const pairs = new Map<SchemaName, [ValidateFunction, ValidateFunction]>();
function same(t: Test, name: SchemaName, label: string, doc: unknown): void {
  if (!pairs.has(name)) pairs.set(name, [schemaValidator(name, built).validate, schemaValidator(name, empty).validate]);
  const [a, b] = pairs.get(name)!;
  const okA = a(doc);
  const okB = b(doc);
  t.equal(okA, okB, `${label}: same verdict (${okB ? 'valid' : 'invalid'})`);
  t.same(a.errors ?? null, b.errors ?? null, `${label}: same errors`);
}

t.test('scenarios: the built and the compiled validator agree on every bundled and bad scenario', async (t) => {
  const dirs = ['scenarios', 'test/fixtures/scenarios', 'test/fixtures/scenarios-bad'];
  let invalid = 0;
  let count = 0;
  for (const dir of dirs) {
    for (const f of readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.yaml'))) {
      let doc: unknown;
      try {
        doc = parse(readFileSync(join(ROOT, dir, f), 'utf8'), { maxAliasCount: 100 });
      } catch {
        continue; // not YAML: refused before the schema
      }
      same(t, 'scenario', `${dir}/${f}`, doc);
      if (pairs.get('scenario')![1].errors) invalid++;
      count++;
    }
  }
  t.ok(count > 50, `${count} scenarios compared`);
  t.ok(invalid > 10, `${invalid} of them invalid, with their errors compared`);
});

t.test('results: the two agree on a valid-looking and broken results', async (t) => {
  same(t, 'result', 'empty object', {});
  same(t, 'result', 'wrong types', { schemaVersion: 'x', scenarios: 3 });
  same(t, 'result', 'not an object', [1, 2]);
});
