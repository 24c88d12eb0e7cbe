// SIPp's own built-in scenarios, dumped from the installed SIPp, imported by
// `sipstorm import-sipp` with no warning, validated, and played against SIPp
// playing their counterparts: imported uac and regexp against `sipp -sn uas`,
// imported branchc against `sipp -sn branchs`; and the other way round with
// `run --listen`: `sipp -sn uac` against imported uas, `sipp -sn branchc`
// against imported branchs. SIPp's own statistics must agree: every call
// successful, none failed.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { sippAvailable, startSipp, runSipp } from '../support/sipp.js';
import { dumpBuiltin, importSippFile, startCli, waitForListener } from '../support/sipp-import.js';

const CALLS = 100;
const missing = !sippAvailable();

t.test('SIPp built-in scenarios imported and played against SIPp', { skip: missing && process.env.CI !== 'true' && 'SIPp not installed' }, async (t) => {
  if (missing) {
    t.fail('SIPp (sip-tester) is needed (CI=true)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-sipp-import-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const yaml: Record<string, string> = {};
  for (const name of ['uac', 'uas', 'regexp', 'branchc', 'branchs']) {
    const xml = dumpBuiltin(name, dir);
    yaml[name] = join(dir, `${name}.yaml`);
    const r = importSippFile(xml, yaml[name]);
    t.equal(r.status, 0, `${name}: imported, exit 0`);
    t.equal(r.stderr, '', `${name}: no warning`);
    const v = await runCli(['validate', yaml[name]], { outDir: false });
    t.equal(v.status, 0, `${name}: validates\n${v.out}`);
  }

  // sipstorm calls SIPp. The run waits for SIPp's port to answer (--wait-for-target), no sleep.
  const against = async (name: string, sippScenario: string, rate: number) => {
    const port = await freePort();
    const sipp = startSipp(['-sn', sippScenario, '-i', '127.0.0.1', '-p', String(port), '-m', String(CALLS), '-timeout', '100s'], { timeoutMs: 110_000 });
    t.teardown(() => sipp.kill());
    const r = await runCli(['run', yaml[name]!, '--target', `127.0.0.1:${port}`, '--rate', String(rate), '--total', String(CALLS), '--workers', '2', '--wait-for-target', '20s'], { timeoutMs: 110_000 });
    const s = await sipp.done;
    return { r, s };
  };
  for (const [name, peer, rate] of [['uac', 'uas', 50], ['regexp', 'uas', 50], ['branchc', 'branchs', 20]] as const) {
    await t.test(`imported ${name} against sipp -sn ${peer}`, async (t) => {
      const { r, s } = await against(name, peer, rate);
      t.equal(r.status, 0, `sipstorm exit 0\n${r.out.slice(-2500)}`);
      t.match(r.result?.scenarios[0].roles[0], { started: CALLS, passed: CALLS, failed: 0 }, `sipstorm: ${CALLS} passed`);
      t.equal(s.successful, CALLS, `SIPp: ${CALLS} successful calls`);
      t.equal(s.failed, 0, 'SIPp: no failed call');
    });
  }

  // SIPp calls sipstorm: run --listen plays the imported server side, one instance per incoming call.
  for (const [name, peer, extra] of [['uas', 'uac', []], ['branchs', 'branchc', ['--no-checks']]] as const) {
    await t.test(`sipp -sn ${peer} -m ${CALLS} against imported ${name} with --listen`, async (t) => {
      const port = await freePort();
      const out = mkdtempSync(join(tmpdir(), 'sipstorm-listen-'));
      t.teardown(() => rmSync(out, { recursive: true, force: true }));
      const run = startCli(['run', yaml[name]!, '--listen', `127.0.0.1:${port}`, '--total', String(CALLS), ...extra], out);
      t.teardown(() => run.kill());
      t.ok(await waitForListener(port), 'sipstorm listens');
      const s = await runSipp(['-sn', peer, `127.0.0.1:${port}`, '-i', '127.0.0.1', '-m', String(CALLS), '-r', '20', '-timeout', '100s'], { timeoutMs: 110_000 });
      const r = await run.done;
      t.equal(s.successful, CALLS, `SIPp: ${CALLS} successful calls`);
      t.equal(s.failed, 0, `SIPp: no failed call\n${s.stdout.split('\n').filter((l) => /Aborting|unexpected/i.test(l)).slice(0, 3).join('\n')}`);
      t.equal(r.status, 0, `sipstorm exit 0\n${r.out.slice(-2500)}`);
      t.match(r.result?.scenarios[0].roles[0], { started: CALLS, passed: CALLS, failed: 0 }, `sipstorm: ${CALLS} instances passed`);
    });
  }
});
