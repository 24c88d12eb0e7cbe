// A `sipstorm run` with live endpoints, driven from a test: spawned from the
// compiled CLI, its printed metrics and dashboard URLs read from stdout as
// they come, ended by a signal (which ends --metrics-linger) and killed by PID
// at teardown.

import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './cli.js';

export interface LiveRunProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** The URL printed after `label: ` (e.g. 'metrics', 'dashboard'), once printed; rejects if the run exits first. */
  url(label: string): Promise<string>;
  exited: Promise<number | null>;
}

export function spawnLiveRun(args: string[]): LiveRunProcess {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'run', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiting = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const w of [...waiting]) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    for (const w of [...waiting]) w();
    resolve(code);
  }));
  return {
    child,
    output: () => out,
    exited,
    url: (label) =>
      new Promise((resolve, reject) => {
        const look = () => {
          const m = new RegExp(`^${label}: (http://\\S+)$`, 'm').exec(out);
          if (m) {
            waiting.delete(look);
            resolve(m[1]!);
          } else if (child.exitCode !== null) {
            waiting.delete(look);
            reject(new Error(`the run exited before printing its ${label} URL: ${out.slice(-500)}`));
          }
        };
        waiting.add(look);
        look();
      }),
  };
}
