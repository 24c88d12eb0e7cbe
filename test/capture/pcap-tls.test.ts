// --pcap over TLS writes the SIP messages decrypted, as TCP, each frame with a
// comment saying so, and dissected by tshark like any other; --tls-keylog
// writes the session keys in SSLKEYLOGFILE format, one client random per
// connection the capture shows (Node's 'keylog' event).

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { opensslAvailable, selfSignedCert } from '../support/certs.js';
import { BROKEN, tsharkAvailable, tsharkField, tsharkFrames } from '../support/tshark.js';
import { startServer } from '../../engine/server/index.js';

const missing = !tsharkAvailable() || !opensslAvailable();
const skip = missing && process.env.CI !== 'true' && 'tshark or openssl not installed';

t.test('--pcap and --tls-keylog of a uac-call run over TLS', { skip }, async (t) => {
  if (missing) return t.fail('tshark and openssl are needed (CI=true)');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-tls-'));
  const cert = selfSignedCert(dir);
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['tls'], tls: cert });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoints[0]!;
  const pcap = join(dir, 'tls.pcapng');
  const keylog = join(dir, 'keys.log');
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '4', '--rate', '20', '--workers', '2', '--target', `sip:${ep.host}:${ep.port};transport=tls`, '--tls-ca', cert.certFile, '--pcap', pcap, '--tls-keylog', keylog]);
  t.equal(r.status, 0, r.out.slice(-2000));
  const invite = r.result.scenarios[0].roles[0].steps.find((s: { name: string }) => s.name === 'INVITE');
  t.equal(tsharkFrames(pcap, 'sip.Method == "INVITE"').length, invite.sent, `the ${invite.sent} INVITEs, decrypted`);
  t.same(tsharkFrames(pcap, BROKEN), [], 'no malformed packet, no expert warning');
  const captured = r.result.captures.find((c: { kind: string }) => c.kind === 'pcap');
  const sip = tsharkFrames(pcap, 'sip');
  t.equal(sip.length, captured.messages, 'every message dissects as SIP');
  const comments = tsharkField(pcap, 'sip', 'frame.comment');
  t.equal(comments.length, sip.length, 'each SIP frame has a comment');
  t.ok(comments.every((c) => c.startsWith('sipstorm: TLS, written decrypted')), 'saying it was TLS, written decrypted');

  const lines = readFileSync(keylog, 'latin1').trim().split('\n');
  t.ok(lines.every((l) => /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,}$/.test(l)), 'SSLKEYLOGFILE lines: label, client random, secret');
  const randoms = new Set(lines.map((l) => l.split(' ')[1]));
  const connections = tsharkFrames(pcap, 'tcp.flags.syn == 1 && tcp.flags.ack == 0').length;
  t.equal(randoms.size, connections, `one TLS session per connection in the capture (${connections})`);
});
