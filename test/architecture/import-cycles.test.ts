// Imports go one way (docs/architecture.md): no file of engine/, live/, cli/ or
// reporters/ imports, through any chain, a file that imports it back. The
// graph is read from the TypeScript sources, type-only imports included.

import t from 'tap';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import { findCycles, importGraph } from '../support/import-graph.js';

for (const dir of ['engine', 'live', 'cli', 'reporters']) {
  t.test(`${dir}/ has no import cycle`, async (t) => {
    const graph = importGraph(ROOT, dir);
    t.ok(graph.size > 3, `${dir}/ has its source files (${graph.size})`);
    t.ok([...graph.values()].some((deps) => deps.length > 0), 'imports were found');
    const cycles = findCycles(graph);
    t.same(cycles.map((c) => c.join(' -> ')), [], 'no cycle');
  });
}

t.test('a cycle is found, type-only imports and re-exports included', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sipstorm-cycles-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'engine/ua'), { recursive: true });
  writeFileSync(join(root, 'engine/ua/runtime.ts'), "import { ScenarioInstance } from './instance.js';\n");
  writeFileSync(join(root, 'engine/ua/instance.ts'), "import type { RoleRuntime } from './runtime.js';\n");
  writeFileSync(join(root, 'engine/ua/index.ts'), "export { WorkerRuntime } from './runtime.js';\n");
  writeFileSync(join(root, 'engine/ua/leaf.ts'), "const x: import('./index.js').Foo = 1;\n");
  t.same(findCycles(importGraph(root, 'engine')), [['engine/ua/runtime.ts', 'engine/ua/instance.ts', 'engine/ua/runtime.ts']]);
  writeFileSync(join(root, 'engine/ua/instance.ts'), "import type { UaHost } from './ua-host.js';\n");
  t.same(findCycles(importGraph(root, 'engine')), [], 'broken by an interface file');
  writeFileSync(join(root, 'engine/ua/runtime.ts'), "const t: import('./leaf.js').T = 1;\n");
  t.same(findCycles(importGraph(root, 'engine')).length, 1, 'an import() type reference closes a cycle too');
});
