// Each of 20 watchers is told its own presentity's note, through a real
// Kamailio (presence + presence_xml): presentities PUBLISH a PIDF whose note
// names themselves, watchers SUBSCRIBE to their peer and expect that note,
// '${peer.user}' filled in inside 'expect' for each UA.

import t from 'tap';
import { runCli } from '../support/cli.js';
import { kamailioAvailable, kamailioForTest } from '../support/kamailio.js';

const missing = !kamailioAvailable();
if (missing && process.env.CI === 'true') t.fail('kamailio (with its presence modules) is not installed, and CI=true: install kamailio kamailio-presence-modules');

t.test('presence-notes.yaml against Kamailio: 20 watchers each see their own presentity\'s note', { skip: missing && 'kamailio (with presence modules) not installed' }, async (t) => {
  const k = await kamailioForTest(t);
  if (!k) return;
  const r = await runCli(['run', 'scenarios/interop/presence-notes.yaml', '--target', `127.0.0.1:${k.port}`, '--workers', '2']);
  t.equal(r.status, 0, r.out.slice(-2500));
  t.match(r.out, /PASSED: 40 started, 40 passed, 0 failed/);
  const watcher = r.result.scenarios[0].roles.find((x: { role: string }) => x.role === 'watcher');
  const notify = watcher.steps.find((s: { name: string }) => s.name === 'recv NOTIFY');
  t.equal(notify.passed, 20, "every watcher's NOTIFY carried its own presentity's note");
});

