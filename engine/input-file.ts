// Files a user hands sipstorm (scenarios, body files, users CSVs, suites,
// saved results): only regular files, each kind with a size limit, checked by
// stat before a byte is read. A 50 MB scenario or `bodyFile: /dev/zero` is a
// mistake to name in one line (exit 2), not a reason to run out of memory or
// hang; the limits are far above any real file of that kind.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { SipstormError } from './errors.js';

const MB = 1024 * 1024;

/** The largest file of each kind sipstorm reads (README, "What sipstorm does when things go wrong"). */
export const INPUT_LIMITS = {
  scenario: { bytes: 2 * MB, what: 'a scenario' },
  body: { bytes: 1 * MB, what: 'a body file' },
  csv: { bytes: 32 * MB, what: 'a users CSV' },
  suite: { bytes: 2 * MB, what: 'a suite file' },
  result: { bytes: 64 * MB, what: 'a result file' },
  certificate: { bytes: 1 * MB, what: 'a certificate file' },
  keytab: { bytes: 1 * MB, what: 'a keytab' },
  audio: { bytes: 64 * MB, what: 'a WAV file' },
} as const;

export type InputKind = keyof typeof INPUT_LIMITS;

/** Why a file was refused; `reason` reads after the file's name (or after file:line:col of the key naming it). */
export class InputFileError extends SipstormError {
  /** Bad input: the CLI exits 2. */
  readonly exitCode = 2;
  constructor(
    code: 'INPUT_MISSING' | 'INPUT_NOT_FILE' | 'INPUT_TOO_LARGE' | 'INPUT_UNREADABLE',
    readonly path: string,
    readonly reason: string,
  ) {
    super(code, `${path}: ${reason}`);
  }
}

function size(bytes: number): string {
  return bytes >= MB ? `${(bytes / MB).toFixed(1).replace(/\.0$/, '')} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

function unreadable(path: string, err: unknown): InputFileError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputFileError('INPUT_MISSING', path, 'no such file');
  return new InputFileError('INPUT_UNREADABLE', path, `cannot read (${code ?? (err as Error).message})`);
}

/**
 * Reads a whole file of a kind, refusing what is not a regular file (a
 * directory, /dev/zero, a FIFO that would block) and what is larger than the
 * kind's limit, both before reading. The read is bounded too, so a file that
 * grows after the check still cannot exhaust memory.
 */
export function readInputFile(path: string, kind: InputKind): Buffer {
  const limit = INPUT_LIMITS[kind];
  checkInputFile(path, kind);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw unreadable(path, err);
  }
  try {
    const chunks: Buffer[] = [];
    const chunk = Buffer.allocUnsafe(64 * 1024);
    let total = 0;
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
      total += n;
      if (total > limit.bytes) throw tooLarge(path, total, kind);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof InputFileError) throw err;
    throw unreadable(path, err);
  } finally {
    closeSync(fd);
  }
}

/** The checks of readInputFile without the read: a regular file within the kind's limit. */
export function checkInputFile(path: string, kind: InputKind): void {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw unreadable(path, err);
  }
  if (st.isDirectory()) throw new InputFileError('INPUT_NOT_FILE', path, 'is a directory, not a file');
  if (!st.isFile()) throw new InputFileError('INPUT_NOT_FILE', path, 'is not a regular file (a device, FIFO or socket)');
  if (st.size > INPUT_LIMITS[kind].bytes) throw tooLarge(path, st.size, kind);
}

function tooLarge(path: string, bytes: number, kind: InputKind): InputFileError {
  const limit = INPUT_LIMITS[kind];
  return new InputFileError('INPUT_TOO_LARGE', path, `is ${size(bytes)}, more than the ${size(limit.bytes)} sipstorm reads for ${limit.what}`);
}

/** The same file as text (UTF-8). */
export function readInputText(path: string, kind: InputKind): string {
  return readInputFile(path, kind).toString('utf8');
}
