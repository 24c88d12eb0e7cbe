// The CPU time of a benchmark's child process (user + system, children
// included), from the kernel's accounting as bash's `times` reports it: what
// bench/load.ts and bench/media.ts compare tools by.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Runs a command under bash and reads the children's CPU time from `times`. */
export function timed(cmd: string[], cwd: string): { cpuSeconds: number; stdout: string; status: number | null } {
  const r = spawnSync('bash', ['-c', '"$@" > "$OUT" 2>&1; rc=$?; times; exit $rc', 'bench', ...cmd], {
    cwd, encoding: 'utf8', env: { ...process.env, OUT: join(cwd, 'out.txt') }, maxBuffer: 1e8,
  });
  const lines = r.stdout.trim().split('\n');
  const child = lines[lines.length - 1]!.trim().split(/\s+/);
  const secs = (s: string) => {
    const m = /(\d+)m([\d.]+)s/.exec(s);
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  };
  return { cpuSeconds: secs(child[0]!) + secs(child[1]!), stdout: readFileSync(join(cwd, 'out.txt'), 'utf8'), status: r.status };
}
