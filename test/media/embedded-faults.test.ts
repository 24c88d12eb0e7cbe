// The embedded server's RTP echo and its fault knobs, read back by sipstorm's
// own metrics through the CLI: a clean echo passes the bundled thresholds;
// 5% of packets dropped reads as 5% ± 1% loss, every other packet's timestamp
// moved 20 ms reads as 20 ms of RFC 3550 jitter (the transit alternates by
// 20 ms; the machine's own timing noise mostly cancels in the alternation),
// nothing echoed is counted one-way;
// and the thresholds on them fail the run with exit 1. Counts, not timing.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'media-faults-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** 8 calls, 3 s of tone each (150 packets), the call 3.5 s long. */
function scenario(thresholds: string[]): string {
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, [
    'name: media-faults',
    'media:',
    '  duration: 3s',
    '  oneWayAfter: 1s',
    'load:',
    '  model: open',
    '  rate: 8',
    '  total: 8',
    'steps:',
    "  - send: INVITE",
    "    to: 'sip:echo@${target.host}:${target.port}'",
    '    expect: 200',
    '  - send: ACK',
    '  - pause: 3500ms',
    '  - send: BYE',
    '    expect: 200',
    ...(thresholds.length ? ['thresholds:', ...thresholds.map((x) => `  - '${x}'`)] : []),
    '',
  ].join('\n'));
  return file;
}

t.test('the bundled scenario passes its thresholds against the echo', async (t) => {
  const r = await runCli(['run', 'scenarios/uac-call-media.yaml', '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-2500));
  const m = r.result.media;
  t.equal(m.streams, 5);
  t.equal(m.oneWay, 0);
  t.ok(m.dtmfSent > 0, 'DTMF events were sent');
  t.equal(r.result.thresholds.filter((x: { ok: boolean }) => x.ok).length, 3, 'its three media thresholds hold');
});

t.test('5% dropped reads as 5% ± 1% loss, and media.loss < 0.5% fails the run', async (t) => {
  const r = await runCli(['run', scenario(['media.loss < 0.5%']), '--workers', '1', '--fault-rtp-drop', '0.05']);
  t.equal(r.status, 1, r.out.slice(-2500));
  const m = r.result.media;
  const loss = m.packetsLost / m.packetsExpected;
  t.ok(loss >= 0.04 && loss <= 0.06, `loss ${(loss * 100).toFixed(2)}% (${m.packetsLost} of ${m.packetsExpected})`);
  t.ok(m.lossPercent.p50 >= 4 && m.lossPercent.p50 <= 6, `per-call loss p50 ${m.lossPercent.p50}%`);
  t.equal(m.oneWay, 0);
  t.same(r.result.thresholds.map((x: { ok: boolean }) => x.ok), [false]);
  t.ok(m.mos.p50 < 4.2, `MOS drops with loss (p50 ${m.mos.p50})`);
});

t.test('20 ms added jitter reads as such, and media.jitter.p99 < 10ms fails the run', async (t) => {
  const r = await runCli(['run', scenario(['media.jitter.p99 < 10ms']), '--workers', '1', '--fault-rtp-jitter', '20']);
  t.equal(r.status, 1, r.out.slice(-2500));
  const m = r.result.media;
  t.ok(m.jitterMs.p50 >= 17 && m.jitterMs.p50 <= 26, `jitter p50 ${m.jitterMs.p50} ms`);
  t.equal(m.packetsLost, 0, 'nothing lost');
  t.equal(m.reordered, 0, 'nothing reordered');
});

t.test('nothing echoed: every call is one-way, and media.oneway == 0 fails the run', async (t) => {
  const r = await runCli(['run', scenario(['media.oneway == 0']), '--workers', '1', '--fault-rtp-one-way']);
  t.equal(r.status, 1, r.out.slice(-2500));
  const m = r.result.media;
  t.equal(m.oneWay, 8);
  t.equal(m.packetsReceived, 0);
  t.ok(m.packetsSent > 8 * 100, 'sipstorm still sent its stream');
  t.equal(m.mos.max, 1, 'a one-way call scores MOS 1');
});

t.test('the embedded server refuses an offer with no codec it speaks: 488 with a Warning saying why', async (t) => {
  const file = join(dir, 'g729.yaml');
  writeFileSync(file, [
    'name: g729', 'load: { model: open, rate: 1, total: 1 }', 'steps:', '  - send: INVITE', "    to: 'sip:echo@${target.host}:${target.port}'",
    '    contentType: application/sdp', '    body: "v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nc=IN IP4 127.0.0.1\\r\\nt=0 0\\r\\nm=audio 4000 RTP/AVP 18\\r\\na=rtpmap:18 G729/8000\\r\\n"',
    '    expect:', '      code: 488', '      headers:', "        Warning: 'no acceptable codec'", '',
  ].join('\n'));
  const r = await runCli(['run', file, '--workers', '1']);
  t.equal(r.status, 0, r.out.slice(-2000));
});
