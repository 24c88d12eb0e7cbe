// --trace-failed holds the messages of every failed instance, not only the 20
// ladders the reports keep: a run where the embedded server answers every
// INVITE 503 fails all 30 of its instances, and the file has 30 of them, each
// under a line naming the instance and why it failed, its messages together.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

t.test('--trace-failed: every failed instance, with its messages', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-trace-failed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'failed.txt');
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '30', '--rate', '50', '--workers', '2', '--fault-error', '1', '--fault-code', '503', '--trace-failed', file]);
  t.equal(r.status, 1, 'the run fails');
  t.equal(r.result.totals.failed, 30, 'every instance failed');
  t.equal(r.result.failures.length, 20, 'the reports keep 20 ladders');
  const text = readFileSync(file, 'latin1');
  const headers = [...text.matchAll(/^failed instance: scenario uac-call, role (\S+), user (\S+): (.*)$/gm)];
  t.equal(headers.length, 30, 'the trace has all 30');
  t.ok(headers.every((h) => /'INVITE': expected 200, got 503/.test(h[3]!)), 'each says why');
  t.equal(new Set(headers.map((h) => h[2])).size, 30, 'one per instance (user)');
  t.equal([...text.matchAll(/^INVITE sip:service@/gm)].length, 30, 'each with the INVITE it sent');
  t.equal([...text.matchAll(/^SIP\/2\.0 503 /gm)].length, 30, 'and the 503 it got');
  const blocks = text.split(/^=+ \S+\nfailed instance: /m).slice(1);
  t.ok(blocks.every((b) => new Set([...b.matchAll(/^Call-ID: (\S+)/gm)].map((m) => m[1])).size === 1), 'each instance\'s messages together under its header');
  const c = r.result.captures.find((x: { kind: string }) => x.kind === 'trace-failed');
  t.match(c, { file, messages: 60, truncated: false, notWritten: 0 });
  t.match(text, /end of trace: 60 messages\n$/);
});
