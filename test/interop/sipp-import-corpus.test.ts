// The import corpus (test/fixtures/sipp/import-*.xml, one file per group of
// SIPp keywords and actions) imported by `sipstorm import-sipp` and played
// against real SIPp running a peer scenario (peer-*.xml) that checks, with
// ereg check_it and verifyauth, what it receives: a value carried over wrong
// fails SIPp's call. Both sides must count every call successful. The file of
// what has no sipstorm equal gives each thing its line and exit 2.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { runSipp, sippAvailable, startSipp } from '../support/sipp.js';
import { importSippFile, startCli, waitForListener } from '../support/sipp-import.js';

const FIX = join(ROOT, 'test/fixtures/sipp');
const missing = !sippAvailable();

/** sipstorm calls (imported file), SIPp answers (peer file); or, with listen, SIPp calls sipstorm. */
const PAIRS: { file: string; peer: string; calls: number; args?: string[]; listen?: boolean }[] = [
  { file: 'import-keywords', peer: 'peer-keywords', calls: 20, args: ['--var', 'service=alice'] },
  { file: 'import-cseq-pauses', peer: 'peer-cseq', calls: 20 },
  { file: 'import-variables', peer: 'peer-variables', calls: 20 },
  // One worker: the peer answers odd call numbers 486, even ones 200, and the numbers are a worker's.
  { file: 'import-branches', peer: 'peer-branches', calls: 20, args: ['--workers', '1'] },
  { file: 'import-routes', peer: 'peer-routes', calls: 20 },
  { file: 'import-timeouts', peer: 'peer-timeouts', calls: 10 },
  { file: 'import-fields', peer: 'peer-fields', calls: 20, args: ['--users-csv', join(FIX, 'import-users.csv')] },
  { file: 'import-auth', peer: 'peer-auth', calls: 20 },
  { file: 'import-uas', peer: 'peer-uac', calls: 20, listen: true },
];

t.test('the import corpus against SIPp', { skip: missing && process.env.CI !== 'true' && 'SIPp not installed' }, async (t) => {
  if (missing) {
    t.fail('SIPp (sip-tester) is needed (CI=true)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-corpus-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const p of PAIRS) {
    await t.test(`${p.file}.xml against SIPp ${p.peer}.xml`, async (t) => {
      const yaml = join(dir, `${p.file}.yaml`);
      const imp = importSippFile(join(FIX, `${p.file}.xml`), yaml);
      t.equal(imp.status, 0, `imported, exit 0\n${imp.stderr}`);
      const port = await freePort();
      const peerFile = join(FIX, `${p.peer}.xml`);
      if (p.listen) {
        const out = mkdtempSync(join(dir, 'listen-'));
        const run = startCli(['run', yaml, '--listen', `127.0.0.1:${port}`, '--total', String(p.calls), ...(p.args ?? [])], out);
        t.teardown(() => run.kill());
        t.ok(await waitForListener(port), 'sipstorm listens');
        const s = await runSipp(['-sf', peerFile, `127.0.0.1:${port}`, '-i', '127.0.0.1', '-m', String(p.calls), '-r', '10', '-timeout', '60s'], { timeoutMs: 70_000 });
        const r = await run.done;
        t.equal(s.successful, p.calls, `SIPp: ${p.calls} successful`);
        t.equal(s.failed, 0, `SIPp: none failed\n${s.stdout.split('\n').filter((l) => /Aborting|unexpected|regexp|failed/i.test(l)).slice(0, 3).join('\n')}`);
        t.equal(r.status, 0, `sipstorm exit 0\n${r.out.slice(-2000)}`);
        t.match(r.result?.scenarios[0].roles[0], { started: p.calls, passed: p.calls, failed: 0 }, 'sipstorm: every instance passed');
        return;
      }
      const sipp = startSipp(['-sf', peerFile, '-i', '127.0.0.1', '-p', String(port), '-m', String(p.calls), '-timeout', '60s'], { timeoutMs: 70_000 });
      t.teardown(() => sipp.kill());
      const r = await runCli(['run', yaml, '--target', `127.0.0.1:${port}`, '--rate', '20', '--total', String(p.calls), '--wait-for-target', '20s', ...(p.args ?? [])], { timeoutMs: 70_000 });
      const s = await sipp.done;
      t.equal(r.status, 0, `sipstorm exit 0\n${r.out.slice(-2000)}`);
      t.match(r.result?.scenarios[0].roles[0], { started: p.calls, passed: p.calls, failed: 0 }, 'sipstorm: every instance passed');
      t.equal(s.successful, p.calls, `SIPp: ${p.calls} successful`);
      t.equal(s.failed, 0, `SIPp: none failed\n${s.stdout.split('\n').filter((l) => /Aborting|unexpected|regexp|failed/i.test(l)).slice(0, 3).join('\n')}`);
    });
  }
});

t.test('what has no sipstorm equal is listed with its line, exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-unsupported-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(FIX, 'import-unsupported.xml');
  const r = importSippFile(file, join(dir, 'out.yaml'));
  t.equal(r.status, 2, 'exit 2');
  t.same(r.stderr.trim().split('\n'), [
    `${file}:4: <send> attribute lost="10" is not converted`,
    `${file}:4: <send> keyword [tdmmap] has no sipstorm equal`,
    `${file}:4: <send> keyword [cseq+1] has no sipstorm equal`,
    `${file}:12: <recv> optional="global" (a message taken at any point of the call) is not converted`,
    `${file}:13: <pause> distribution="pareto" is not converted (sipstorm pauses: fixed, uniform, normal, exponential)`,
    `${file}:16: <log> (action) has no sipstorm equal; not converted`,
    `${file}:17: <exec> (action) has no sipstorm equal; not converted`,
    `${file}:20: <sendCmd> has no sipstorm equal; not converted`,
    `${file}: 8 thing(s) not converted: the scenario would not behave as in SIPp`,
  ]);
});
