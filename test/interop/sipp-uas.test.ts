// uac-call.yaml against SIPp's built-in UAS: every call completes, and SIPp's
// own statistics agree with sipstorm's on the number of calls.

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/ports.js';
import { sippAvailable, startSipp } from '../support/sipp.js';

const root = new URL('../../../', import.meta.url).pathname;

t.test('uac-call.yaml against sipp -sn uas', { skip: !sippAvailable() && 'SIPp not installed' }, async (t) => {
  const port = await freePort();
  const calls = 200;
  const uas = startSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-m', String(calls), '-timeout', '60s']);
  t.teardown(() => uas.kill());
  await new Promise((r) => setTimeout(r, 300));
  const out = mkdtempSync(join(tmpdir(), 'sipstorm-uas-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'run', 'scenarios/uac-call.yaml', '--target', `127.0.0.1:${port}`, '--rate', '100', '--total', String(calls), '--workers', '2', '--out', out], { cwd: root, encoding: 'utf8', timeout: 90_000 });
  t.equal(r.status, 0, `sipstorm exit 0\n${r.stdout.slice(-2000)}${r.stderr}`);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  t.equal(result.totals.passed, calls, `sipstorm: ${calls} calls passed`);
  const sipp = await uas.done;
  t.equal(sipp.successful, calls, 'SIPp counts the same number of successful calls');
  t.equal(sipp.failed, 0, 'SIPp counts no failed call');
});
