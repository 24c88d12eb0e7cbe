// Runs real SIPp (Debian package sip-tester) from tests: bounded in time,
// killed by PID at teardown, statistics read from its -stf CSV.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SIPP = '/usr/bin/sipp';

export function sippAvailable(): boolean {
  return existsSync(SIPP);
}

export interface SippResult {
  exitCode: number | null;
  successful: number;
  failed: number;
  stdout: string;
  stats: Record<string, string>;
}

/** Runs SIPp to completion (it must be bounded with -m and -timeout in args). */
export function runSipp(args: string[], opts: { timeoutMs?: number } = {}): Promise<SippResult> {
  return startSipp(args, opts).done;
}

/** The last line of SIPp's -stf statistics CSV, by column name. */
function readStats(stf: string): Record<string, string> {
  const stats: Record<string, string> = {};
  if (!existsSync(stf)) return stats;
  const lines = readFileSync(stf, 'utf8').trim().split('\n');
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  header.forEach((h, i) => (stats[h] = last[i] ?? ''));
  return stats;
}

/** Starts SIPp in the background (e.g. `-sn uas -m N`); `done` resolves with its statistics when it exits. */
export function startSipp(args: string[], opts: { timeoutMs?: number } = {}): { pid: number; done: Promise<SippResult>; kill(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const stf = join(dir, 'stats.csv');
  const child = spawn(SIPP, [...args, '-nostdin', '-trace_stat', '-stf', stf, '-fd', '1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stdout += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
  const done = new Promise<SippResult>((resolve) => {
    child.on('exit', (exitCode) => {
      clearTimeout(killer);
      const stats = readStats(stf);
      rmSync(dir, { recursive: true, force: true });
      resolve({ exitCode, successful: Number(stats['SuccessfulCall(C)'] ?? NaN), failed: Number(stats['FailedCall(C)'] ?? NaN), stdout, stats });
    });
  });
  return { pid: child.pid!, done, kill: () => child.kill('SIGKILL') };
}
