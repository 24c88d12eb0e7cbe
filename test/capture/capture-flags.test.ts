// Bad capture flags are bad input: one line naming the flag and what is
// wrong, exit 2, before any traffic (nothing is run, no file is left behind);
// a run that cannot start leaves no folder of worker parts either.

import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

t.test('bad capture flags', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [string[], RegExp][] = [
    [['--trace', join(dir, 'no/such/dir/trace.txt')], /^sipstorm: --trace \S+no\/such\/dir\/trace\.txt: cannot write it \(ENOENT\)\n$/],
    [['--pcap', dir], /^sipstorm: --pcap \S+: cannot write it \(EISDIR\)\n$/],
    [['--trace', join(dir, 't.txt'), '--trace-max-bytes', '12X'], /^sipstorm: --trace-max-bytes must be a size of at least 1024 bytes like 1048576, 64K, 500M or 2G, got '12X'\n$/],
    [['--pcap', join(dir, 'p'), '--pcap-max-bytes', '100'], /^sipstorm: --pcap-max-bytes must be a size of at least 1024 bytes/],
    [['--trace', join(dir, 'same'), '--pcap', join(dir, 'same')], /^sipstorm: --trace, --trace-failed, --pcap and --tls-keylog need different files\n$/],
  ];
  for (const [flags, message] of cases) {
    const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '1', '--no-reports', ...flags]);
    t.equal(r.status, 2, flags.join(' '));
    t.match(r.stderr, message);
    t.equal(r.stdout, '', 'nothing ran');
  }
  t.notOk(existsSync(join(dir, 'same')), 'no file made when the flags are refused');
  const down = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '1', '--no-reports', '--target', 'sip:127.0.0.1:1;transport=tcp', '--trace', join(dir, 'down.txt')]);
  t.equal(down.status, 3, 'a target that is down: nothing sent');
  t.same(readdirSync(dir).filter((f) => f.startsWith('.sipstorm-capture-')), [], 'no part folder left behind');
});
