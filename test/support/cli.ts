// Runs the sipstorm CLI (the compiled dist/cli/main.js) from tests, always
// asynchronously so that servers the test runs in its own process can answer,
// with a time bound, and reads the result.json it wrote.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, in arrival order. */
  out: string;
  /** The --out folder (removed unless keep is set). */
  dir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  result?: any;
}

export function runCli(args: string[], opts: { env?: Record<string, string>; keep?: boolean; outDir?: boolean; timeoutMs?: number } = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-test-'));
  const full = opts.outDir === false ? args : [...args, '--out', dir];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli/main.js', ...full], { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let out = '';
    child.stdout.on('data', (d) => ((stdout += d), (out += d)));
    child.stderr.on('data', (d) => ((stderr += d), (out += d)));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('exit', (status) => {
      clearTimeout(killer);
      const file = join(dir, 'result.json');
      const result = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      resolve({ status, stdout, stderr, out, dir, result });
    });
  });
}
