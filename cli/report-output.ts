// Where reports go. Checked before any traffic: --out must be (or be able to
// become) a directory sipstorm can write in, and --json/--junit/--html must
// name files in one, else exit 2 with one line, rather than learning it after
// the whole run. Written at the end one by one: a report that fails (disk
// full) is named on stderr, the temp file is gone (reporters/write-file.ts),
// the other reports and the verdict still come out.

import { existsSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError, type ParsedArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { describeFsError } from '../reporters/write-file.js';

/** Creates and removes an empty file in `dir`: the one test that also tells a read-only file system or a full inode table from a writable directory. */
function probeWrite(dir: string): void {
  const probe = join(dir, `.sipstorm-${process.pid}.probe`);
  writeFileSync(probe, '', { flag: 'wx' });
  rmSync(probe, { force: true });
}

/** The directory `dir` is, or can be made: exit 2 (UsageError) if not. Creates nothing. `label` starts the message (the flag and its value). */
export function checkReportDir(dir: string, label: string): void {
  const abs = resolve(dir);
  let existing = abs;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let isDir: boolean;
  try {
    isDir = statSync(existing).isDirectory();
  } catch (err) {
    throw new UsageError(`${label}: cannot use ${existing} (${describeFsError(err)})`);
  }
  if (!isDir) throw new UsageError(`${label}: ${existing === abs ? 'it' : existing} is a file, not a directory`);
  try {
    probeWrite(existing);
  } catch (err) {
    throw new UsageError(`${label}: cannot write in ${existing} (${describeFsError(err)})`);
  }
  // A full file system still lets an empty file be created; no report would fit, though.
  const fs = statfsSync(existing);
  if (fs.bavail === 0) throw new UsageError(`${label}: cannot write in ${existing} (ENOSPC: no space left on device)`);
}

/** A report file named by a flag: not a directory, and in a directory sipstorm can write in. */
export function checkReportFile(file: string, flag: string): void {
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${flag} ${file}: is a directory; give a file name`);
  checkReportDir(dirname(resolve(file)), `${flag} ${file}`);
}

/** Every report destination of a command's flags (--out unless --no-reports or outDir is false; --json, --junit, --html when given). */
export function checkReportFlags(f: ParsedArgs['flags'], opts: { outDir: boolean }): void {
  if (opts.outDir && !f['no-reports']) checkReportDir(String(f.out ?? 'reports'), `--out ${String(f.out ?? 'reports')}`);
  for (const name of ['json', 'junit', 'html']) {
    if (f[name] !== undefined) checkReportFile(String(f[name]), `--${name}`);
  }
}

export interface ReportFile {
  path: string;
  write(path: string): void;
}

/** Writes each report; a failure is one line naming the file, and the rest are still written. Returns how many failed. */
export function writeReportFiles(files: ReportFile[]): { written: string[]; failed: number } {
  let failed = 0;
  const written: string[] = [];
  for (const file of files) {
    try {
      file.write(file.path);
      written.push(file.path);
    } catch (err) {
      failed++;
      const message = (err as { code?: string }).code === 'REPORT_WRITE' ? (err as Error).message : `cannot write ${file.path} (${describeFsError(err)})`;
      process.stderr.write(`sipstorm: ${message}\n`);
    }
  }
  return { written, failed };
}

/**
 * The exit code once the reports are written: a run that passed but whose
 * reports could not all be written exits 3, since a pipeline reading
 * junit.xml would find nothing; a failed or interrupted run keeps its code.
 */
export function exitAfterReports(exitCode: number, failedReports: number): number {
  return failedReports > 0 && exitCode === EXIT.OK ? EXIT.CANNOT_RUN : exitCode;
}
