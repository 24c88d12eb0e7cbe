// Reports are written atomically: a temp file beside the target, then a
// rename, so a killed run never leaves half a report. A write that fails (disk
// full, read-only file system) removes its temp file and says which report
// failed and why, in a ReportWriteError.

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SipstormError } from '../engine/errors.js';

export class ReportWriteError extends SipstormError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super('REPORT_WRITE', `cannot write ${path} (${describeFsError(cause)})`, { cause });
  }
}

/** "ENOSPC: no space left on device" out of Node's "ENOSPC: no space left on device, write". */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code && typeof e.message === 'string') return e.message.split(',')[0]!;
  return String((err as Error)?.message ?? err);
}

export function writeFileAtomic(path: string, data: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (err) {
    throw new ReportWriteError(path, err);
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing more can be done where even a removal fails; the report's error says why.
    }
    throw new ReportWriteError(path, err);
  }
}
