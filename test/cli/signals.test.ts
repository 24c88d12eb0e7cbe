// Ctrl-C in the middle of a run: workers stop, every count balances, the
// reports of what ran are complete and valid, exit 130 (143 for SIGTERM).

import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../../', import.meta.url).pathname;

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  t.test(`${signal} stops the run, writes the reports, exits ${code}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sipstorm-sig-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/uac-call.yaml', '--rate', '50', '--duration', '60s', '--workers', '2', '--out', dir], { cwd: root });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (/uac-call 2s/.test(out) && !child.killed) child.kill(signal);
    });
    child.stderr.on('data', (d) => (out += d));
    const status = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    t.equal(status, code, out.slice(-800));
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    t.equal(result.interrupted, true);
    t.equal(result.exitCode, code);
    t.ok(result.totals.started >= 50, `calls had started (${result.totals.started})`);
    t.equal(result.totals.started, result.totals.passed + result.totals.failed + result.totals.running, 'counts balance');
    t.equal(result.totals.running, 0, 'nothing left running');
    t.match(readFileSync(join(dir, 'junit.xml'), 'utf8'), /<\/testsuites>\n$/, 'junit.xml is complete');
  });
}
