// The embedded server against real SIPp: the built-in UAC completes 10,000
// calls with none failed, and a REGISTER scenario with [authentication]
// registers 1,000 distinct users that the server's location service then holds.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../engine/server/index.js';
import { runSipp, sippAvailable } from '../support/sipp.js';

const fixtures = new URL('../../../test/fixtures/sipp/', import.meta.url);

t.test('sipp -sn uac: 10,000 calls at 500/s, 0 failed', { skip: !sippAvailable() && 'SIPp not installed' }, async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  t.teardown(() => server.close());
  const port = server.endpoints[0]!.port;
  const r = await runSipp(['-sn', 'uac', `127.0.0.1:${port}`, '-i', '127.0.0.1', '-p', '0', '-r', '500', '-m', '10000', '-timeout', '80s']);
  t.equal(r.exitCode, 0, 'SIPp exits 0 (all calls succeeded)');
  t.equal(r.successful, 10000, 'SIPp counts 10,000 successful calls');
  t.equal(r.failed, 0, 'and no failed call');
  const stats = server.stats();
  t.equal(stats.requests.INVITE, 10000, 'the server saw 10,000 INVITEs');
  t.equal(stats.callsAnswered, 10000);
  t.equal(stats.requests.BYE, 10000);
  t.equal(stats.activeCalls, 0, 'every call was hung up');
});

t.test('SIPp REGISTER with [authentication]: 1,000 distinct users registered', { skip: !sippAvailable() && 'SIPp not installed' }, async (t) => {
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp'] });
  const dir = mkdtempSync(join(tmpdir(), 'sipp-users-'));
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const csv = join(dir, 'users.csv');
  writeFileSync(csv, ['SEQUENTIAL', ...Array.from({ length: 1000 }, (_, i) => `user${i + 1};secret${i + 1}`)].join('\n') + '\n');
  const port = server.endpoints[0]!.port;
  const r = await runSipp([
    `127.0.0.1:${port}`, '-sf', new URL('register-auth.xml', fixtures).pathname, '-inf', csv,
    '-i', '127.0.0.1', '-p', '0', '-r', '500', '-m', '1000', '-timeout', '60s',
  ]);
  t.equal(r.exitCode, 0, 'SIPp exits 0');
  t.equal(r.successful, 1000);
  t.equal(r.failed, 0);
  const aors = server.registeredAors();
  t.equal(new Set(aors).size, 1000, 'the location service holds 1,000 distinct AORs');
  t.ok(aors.includes('user1@127.0.0.1') && aors.includes('user1000@127.0.0.1'));
  const stats = server.stats();
  t.equal(stats.responses[401], 1000, 'each user was challenged once');
  t.equal(stats.responses[200], 1000);
  t.notOk(stats.responses[403], 'no credentials were rejected');
});
