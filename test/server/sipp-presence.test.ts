// Presence composition seen by a real watcher: sipstorm publishes user5's PIDF
// document (a tuple with a note and a contact, and a second tuple) to the
// embedded server, then SIPp subscribes to user5 and checks the NOTIFY body
// with regexp actions (test/fixtures/sipp/subscribe-note.xml), which fail the
// call when the published note, contact or tuple is missing. Before anything is
// published the same watcher fails: the fixture does check.

import t from 'tap';
import { startServer } from '../../engine/server/index.js';
import { runCli } from '../support/cli.js';
import { runSipp, sippAvailable, SIPP } from '../support/sipp.js';

const fixtures = new URL('../../../test/fixtures/', import.meta.url).pathname;
const skip = !sippAvailable() && process.env.CI !== 'true' && `${SIPP} is missing`;

t.test('a SIPp watcher sees the published note, contact and tuples in the NOTIFY', { skip }, async (t) => {
  if (!sippAvailable()) {
    t.fail(`${SIPP} is missing (apt-get install sip-tester)`);
    return;
  }
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  t.teardown(() => server.close());
  const port = server.endpoints[0]!.port;
  const watch = () => runSipp([`127.0.0.1:${port}`, '-sf', `${fixtures}sipp/subscribe-note.xml`, '-i', '127.0.0.1', '-p', '0', '-m', '1', '-timeout', '20s'], { timeoutMs: 30_000 });

  const before = await watch();
  t.equal(before.failed, 1, 'nothing published yet: the watcher finds no note and fails');
  t.not(before.exitCode, 0);
  t.match(before.stdout, /Failed regexp match: looking in '[^']*<tuple id="t1"><status><basic>closed<\/basic>/, "because the server's own document has no note");

  const pub = await runCli(['run', `${fixtures}scenarios/publish-note.yaml`, '--target', `127.0.0.1:${port}`, '--no-reports'], { outDir: false });
  t.equal(pub.status, 0, `sipstorm published user5's state\n${pub.out.slice(-2000)}`);

  const after = await watch();
  t.equal(after.exitCode, 0, `SIPp exits 0\n${after.stdout.slice(-2000)}`);
  t.equal(after.successful, 1, 'the NOTIFY carried the note, the contact and the second tuple');
  t.equal(after.failed, 0);
  t.ok(server.stats().notifiesSent >= 2, 'the server sent a NOTIFY to each watcher');
});
