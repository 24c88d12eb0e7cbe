// The build step after `tsc` (`npm run build`, deploy/Dockerfile): writes the
// schema validators' code into dist/schemas (see json-schema.ts for why).

import { writeValidators } from './json-schema.js';

for (const file of writeValidators()) process.stdout.write(`wrote ${file}\n`);
