// Media against a real peer: SIPp's built-in UAS with -rtp_echo returns every
// RTP packet to its sender. sipstorm calls it with `media:`, streams 3 s of a
// tone per call (the call lasts 4 s, so every echo is back before the BYE) and
// must read back what it sent: packetsReceived within 1% of packetsSent, no
// one-way call, loss under 1%. Counts, not timing windows.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { freePort } from '../support/ports.js';
import { sippAvailable, startSipp } from '../support/sipp.js';

const missing = sippAvailable() ? undefined : 'sipp (sip-tester) not installed';
if (missing && process.env.CI === 'true') t.fail(`${missing}, and CI=true: install sip-tester`);

const CALLS = 5;

t.test('SIPp -rtp_echo returns every packet sipstorm sends', { skip: missing }, async (t) => {
  const port = await freePort();
  const mediaPort = await freePort();
  const sipp = startSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-rtp_echo', '-m', String(CALLS), '-timeout', '60s'], { timeoutMs: 70_000 });
  t.teardown(() => sipp.kill());
  const dir = mkdtempSync(join(tmpdir(), 'media-sipp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'call.yaml');
  writeFileSync(file, [
    'name: sipp-rtp-echo',
    'media:',
    '  codecs: [PCMU]',
    '  duration: 3s',
    'load:',
    '  model: open',
    '  rate: 5',
    `  total: ${CALLS}`,
    'steps:',
    "  - send: INVITE",
    "    to: 'sip:service@${target.host}:${target.port}'",
    '    expect: 200',
    '  - send: ACK',
    '  - pause: 4s',
    '  - send: BYE',
    '    expect: 200',
    '',
  ].join('\n'));
  // SIPp's UAS may need a moment to bind: the run's start-of-run probe waits for it.
  const r = await runCli(['run', file, '--target', `127.0.0.1:${port}`, '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-2500));
  const m = r.result?.media;
  t.ok(m, 'result.json has media');
  if (!m) return;
  t.equal(m.streams, CALLS, 'one stream per call');
  t.equal(m.oneWay, 0, 'no one-way call');
  t.ok(m.packetsSent >= CALLS * 140, `about 150 packets a call sent (${m.packetsSent})`);
  t.ok(Math.abs(m.packetsReceived - m.packetsSent) <= m.packetsSent * 0.01, `received ${m.packetsReceived} within 1% of sent ${m.packetsSent}`);
  t.ok(m.packetsLost <= m.packetsExpected * 0.01, `loss ${m.packetsLost} of ${m.packetsExpected} under 1%`);
  t.ok(m.mos.min > 4, `MOS above 4 (min ${m.mos.min})`);
  const s = await sipp.done;
  t.equal(s.successful, CALLS, `SIPp counted ${CALLS} successful calls`);
});

t.test('an answer with no codec sipstorm offered fails the call with the reason', { skip: missing }, async (t) => {
  const port = await freePort();
  const mediaPort = await freePort();
  // SIPp's built-in UAS answers PCMU whatever was offered; sipstorm offers PCMA only.
  const sipp = startSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-rtp_echo', '-m', '1', '-timeout', '30s'], { timeoutMs: 40_000 });
  t.teardown(() => sipp.kill());
  const dir = mkdtempSync(join(tmpdir(), 'media-sipp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pcma.yaml');
  writeFileSync(file, "name: pcma-only\nmedia: { codecs: [PCMA] }\nload: { model: open, rate: 1, total: 1 }\nsteps:\n  - send: INVITE\n    to: 'sip:service@${target.host}:${target.port}'\n    expect: 200\n  - send: ACK\n  - send: BYE\n");
  const r = await runCli(['run', file, '--target', `127.0.0.1:${port}`, '--workers', '1']);
  t.equal(r.status, 1, r.out.slice(-2000));
  t.match(r.out, /step 1 'INVITE': media: no acceptable codec: sipstorm offers PCMA; the SDP has 0 \(PCMU\)/);
  t.equal(r.result.media.setupFailed, 1, 'counted as a call without a usable stream');
  t.equal(r.result.media.streams, 0);
});
