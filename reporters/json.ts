// The JSON result (schemas/result.schema.json), written atomically.

import type { RunResult } from '../engine/metrics/result.js';
import { writeFileAtomic } from './write-file.js';

export function writeJson(path: string, result: RunResult): void {
  writeFileAtomic(path, JSON.stringify(result, null, 2) + '\n');
}
