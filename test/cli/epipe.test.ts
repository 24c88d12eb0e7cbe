// `sipstorm run ... | head`: the reader of stdout goes away after its first
// line; the run must still end on its own with its verdict's exit code and
// its reports, and print no stack trace.

import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';

t.test('a closed stdout (| head) does not crash a run', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-epipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/options.yaml', '--total', '20', '--rate', '50', '--workers', '1', '--out', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  // Like head -1: read the first chunk, then close the pipe.
  child.stdout.once('data', () => child.stdout.destroy());
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(status, 0, stderr);
  t.notMatch(stderr, /EPIPE|\n\s+at /, 'no stack trace, no EPIPE error');
  const result = existsSync(join(dir, 'result.json')) ? JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) : undefined;
  t.equal(result?.totals.passed, 20, 'the run went to its end and wrote its reports');
});
