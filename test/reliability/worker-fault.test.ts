// A worker that throws mid-run: its error is reported with its code, the
// other workers stop, the reports are written, exit 1; never a silent hang.
// A worker that cannot start (address not available): exit 3 with the reason.

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; out: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-wf-'));
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['dist/cli/main.js', ...args, '--out', dir], { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    const killer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('exit', (status) => {
      clearTimeout(killer);
      resolve({ status, out, dir });
    });
  });
}

t.test('a worker throws mid-run', async (t) => {
  const started = Date.now();
  const r = await run(['run', 'scenarios/options.yaml', '--rate', '50', '--duration', '30s', '--workers', '2'], { SIPSTORM_FAULT_WORKER_THROW_MS: '1500' });
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 1, r.out.slice(-500));
  t.ok(Date.now() - started < 20_000, 'the run ended early instead of running on or hanging');
  t.match(r.out, /worker 0 failed: FAULT_INJECTED: injected worker fault/);
  const result = JSON.parse(readFileSync(join(r.dir, 'result.json'), 'utf8'));
  t.same(result.workerErrors.map((e: { code: string }) => e.code), ['FAULT_INJECTED']);
  t.equal(result.totals.verdict, 'failed');
  t.ok(result.totals.started > 0, 'what ran is reported');
});

t.test('a worker cannot start: exit 3 with the reason', async (t) => {
  const r = await run(['run', 'scenarios/options.yaml', '--local-host', '192.0.2.1', '--workers', '1']);
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 3);
  t.match(r.out, /sipstorm: worker 0 could not start: bind EADDRNOTAVAIL 192\.0\.2\.1/);
});
