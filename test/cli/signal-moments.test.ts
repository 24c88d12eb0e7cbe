// A signal at every moment of a command, not only mid-run (signals.test.ts):
// while the command loads, after every check but before any traffic, and
// once the reports are written. Each moment is reached through the test hook
// SIPSTORM_TEST_HOLD_AT (cli/interrupts.ts): the command says on stderr that
// it holds there and goes on when the signal comes, so the test signals on
// that line, never after a sleep. Every interrupted run writes its reports
// marked interrupted, says so, and exits 130 (SIGINT) or 143 (SIGTERM).

import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

interface Held {
  status: number | null;
  stdout: string;
  stderr: string;
  dir: string;
}

/** Runs the CLI held at `point`, sends `signal` when it says it holds there. */
function runHeld(args: string[], point: string, signal: NodeJS.Signals): Promise<Held> {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-held-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli/main.js', ...args, '--out', dir], { cwd: root, env: { ...process.env, SIPSTORM_TEST_HOLD_AT: point }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && stderr.includes(`sipstorm: test hold at ${point}: waiting for a signal\n`)) {
        sent = true;
        child.kill(signal);
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr, dir });
    });
  });
}

function reports(t: Test, r: Held, code: number): any {
  t.ok(existsSync(join(r.dir, 'result.json')), 'result.json written');
  const result = JSON.parse(readFileSync(join(r.dir, 'result.json'), 'utf8'));
  t.equal(result.interrupted, true, 'result.json says interrupted');
  t.equal(result.exitCode, code, `result.json says exit ${code}`);
  t.match(readFileSync(join(r.dir, 'junit.xml'), 'utf8'), /<\/testsuites>\n$/, 'junit.xml is complete');
  t.ok(existsSync(join(r.dir, 'report.html')), 'report.html written');
  t.equal(result.totals.verdict, 'failed', 'an interrupted run is never a pass');
  t.match(r.stdout, new RegExp(`^FAILED: .*interrupted by ${code === 130 ? 'SIGINT' : 'SIGTERM'}`, 'm'), 'the verdict line says interrupted');
  return result;
}

const RUN = ['run', 'scenarios/options.yaml', '--total', '3', '--workers', '1'];

t.test('run: SIGINT while the command loads (before any handler of its own)', async (t) => {
  const r = await runHeld(RUN, 'load', 'SIGINT');
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 130, r.stderr);
  t.match(r.stderr, /^sipstorm: SIGINT: stopping, writing reports of what ran/m, 'a message says what happens');
  const result = reports(t, r, 130);
  t.equal(result.totals.started, 0, 'nothing was started');
});

t.test('run: SIGTERM after the checks, before any traffic', async (t) => {
  const r = await runHeld(RUN, 'start', 'SIGTERM');
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 143, r.stderr);
  t.match(r.stderr, /^sipstorm: SIGTERM: stopping/m);
  const result = reports(t, r, 143);
  t.equal(result.totals.started, 0, 'nothing was started');
});

t.test('run: SIGINT once the reports are written: they are written again, marked interrupted', async (t) => {
  const r = await runHeld(RUN, 'reports', 'SIGINT');
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 130, r.stderr);
  t.match(r.stderr, /^sipstorm: SIGINT: stopping/m);
  const result = reports(t, r, 130);
  t.equal(result.totals.started, 3, 'the run had finished its 3 instances');
  t.same(result.scenarios[0].roles[0].started, result.totals.started, 'counts intact');
});

t.test('conform: SIGINT before the first case, and once the reports are written', async (t) => {
  for (const point of ['start', 'reports']) {
    const r = await runHeld(['conform', '--suite', 'message'], point, 'SIGINT');
    t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
    t.equal(r.status, 130, `${point}: ${r.stderr}`);
    t.match(r.stderr, /^sipstorm: SIGINT: stopping \(after the case that is running, if any\), writing reports/m);
    const result = reports(t, r, 130);
    if (point === 'start') t.equal(result.totals.started, 0, 'no case was run');
    else t.ok(result.totals.started > 0, 'the cases had run');
  }
});

t.test('validate: a signal ends it at once with one line', async (t) => {
  const r = await runHeld(['validate', 'scenarios/options.yaml'], 'load', 'SIGINT');
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 130);
  t.match(r.stderr, /^sipstorm: SIGINT: stopped$/m);
});
