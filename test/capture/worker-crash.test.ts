// A worker that crashes mid-run leaves a part without its trailer: the trace
// keeps what it had written, and both the file and the result say a worker did
// not finish (its last messages, still in its buffer, are missing uncounted).

import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

t.test('--trace when a worker crashes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const trace = join(dir, 'trace.txt');
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '20', '--rate', '20', '--workers', '2', '--trace', trace], { env: { SIPSTORM_FAULT_WORKER_THROW_MS: '300' } });
  t.equal(r.status, 1, 'a worker error fails the run');
  const c = r.result.captures[0];
  t.match(c, { kind: 'trace', incompleteWorkers: 1 });
  const text = readFileSync(trace, 'latin1');
  t.match(text, new RegExp(`end of trace: ${c.messages} messages\\nINCOMPLETE: 1 worker did not finish \\(crashed or terminated\\): their last messages are missing\\n$`));
  t.same(readdirSync(dir), ['trace.txt'], 'the parts are gone');
});
