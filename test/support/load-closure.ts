// What loading a compiled module loads with it before any of its code runs:
// the closure of its static imports and re-exports in dist/ (type-only imports
// are gone from the JavaScript; `import()` at a point of use is left out, as
// it loads only when reached), with each npm package reached named `pkg:NAME`.

import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const STATIC = /^\s*(?:import|export)\s+(?:[^'";]*?\bfrom\s+)?['"]([^'"]+)['"]/gm;

/** File (relative to `root`) or `pkg:NAME` -> the file that first imported it (undefined for the entries). */
export function loadClosure(root: string, entries: string[]): Map<string, string | undefined> {
  const seen = new Map<string, string | undefined>(entries.map((e) => [e, undefined]));
  const queue = [...entries];
  while (queue.length) {
    const file = queue.shift()!;
    if (file.startsWith('pkg:')) continue;
    for (const m of readFileSync(resolve(root, file), 'utf8').matchAll(STATIC)) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      const dep = spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)) : `pkg:${spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')}`;
      if (!seen.has(dep)) {
        seen.set(dep, file);
        queue.push(dep);
      }
    }
  }
  return seen;
}

/** How `file` came to be loaded: the chain of imports from an entry. */
export function importChain(closure: Map<string, string | undefined>, file: string): string {
  const chain = [file];
  for (let f = closure.get(file); f !== undefined; f = closure.get(f)) chain.unshift(f);
  return chain.join(' -> ');
}
