// Audio between two simulated UAs through the embedded server's proxy (which
// passes SDP through untouched): the callee's recv INVITE answers the
// caller's offer from a stream of its own, so each side receives the
// other's tone: 2 streams a call, none one-way, nothing lost.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

t.test('caller and callee stream to each other', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'media-two-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'two.yaml');
  const base = readFileSync('scenarios/uas-call.yaml', 'utf8');
  writeFileSync(file, base.replace('name: uas-call\n', 'name: two-party\nmedia:\n  duration: 1s\n  oneWayAfter: 1s\n').replace('      - pause: 200ms', '      - pause: 1500ms'));
  const r = await runCli(['run', file, '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-2500));
  const m = r.result.media;
  t.equal(m.streams, 10, 'a stream on each side of 5 calls');
  t.equal(m.oneWay, 0, 'each side heard the other');
  t.equal(m.packetsLost, 0);
  // 50 packets a stream are due in its second; on a machine busy with other work the media clock may send a few
  // less before the call ends (no loss: they were never sent), so half is the bar for "audio flowed both ways".
  t.ok(m.packetsReceived >= 10 * 25, `at least half of each stream's 50 packets received (${m.packetsReceived})`);
  t.ok(m.packetsReceived <= m.packetsSent, `no more received (${m.packetsReceived}) than sent (${m.packetsSent})`);
  const roles = Object.fromEntries(r.result.scenarios[0].roles.map((x: { role: string; steps: { name: string; media?: unknown }[] }) => [x.role, x]));
  t.ok(roles.callee.steps.find((s: { name: string }) => s.name === 'recv INVITE').media, "the callee's streams are on its recv INVITE step");
  t.ok(roles.caller.steps.find((s: { name: string }) => s.name === 'INVITE').media, "the caller's on its INVITE step");
});
