// Audio with a real phone: baresip (Debian's baresip-core) registers at a real
// Kamailio with auto-answer and plays an 8 kHz WAV of a tone written by this
// test (writeWav); sipstorm calls it with `media:` and streams its own tone
// back. sipstorm must receive baresip's stream (about 50 packets a second,
// loss under 1%, MOS above 4), and baresip must receive sipstorm's: its RTCP
// receiver reports come back (rtcpReceived), and its rtcpsummary module's
// end-of-call statistics count the packets it got (PR) and lost none (PL).

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toneSamples, writeWav } from '../../engine/media/index.js';
import { runCli } from '../support/cli.js';
import { kamailioAvailable, kamailioForTest } from '../support/kamailio.js';

const BARESIP = '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';
const NEEDED = ['g711.so', 'aufile.so', 'account.so', 'menu.so', 'rtcpsummary.so'];
const USER = 'user901';

const baresipAvailable = existsSync(BARESIP) && NEEDED.every((m) => existsSync(join(MODULES, m)));
const missing = !baresipAvailable ? 'baresip (baresip-core) not installed' : !kamailioAvailable() ? 'kamailio (with presence modules) not installed' : undefined;
if (missing && process.env.CI === 'true') t.fail(`${missing}, and CI=true: install baresip-core and kamailio`);

async function until(what: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (what()) return true;
  return what();
}

t.test('baresip plays a WAV to sipstorm and receives sipstorm\'s stream', { skip: missing }, async (t) => {
  const k = await kamailioForTest(t);
  if (!k) return;
  const dir = mkdtempSync(join(tmpdir(), 'baresip-media-'));
  writeFileSync(join(dir, 'tone.wav'), writeWav(toneSamples(1000, 8000 * 60, 6000)));
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll',
    'net_interface 127.0.0.1',
    'sip_listen 127.0.0.1:0',
    `audio_source aufile,${join(dir, 'tone.wav')}`,
    'audio_player aufile,/dev/null',
    'audio_alert aufile,/dev/null',
    'rtcp_mux no',
    `module_path ${MODULES}`,
    'module g711.so',
    'module aufile.so',
    'module rtcpsummary.so',
    'module_app account.so',
    'module_app menu.so',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts'), `<sip:${USER}@127.0.0.1:${k.port};transport=udp>;auth_pass=secret901;answermode=auto;regint=300;audio_codecs=PCMU,PCMA\n`);
  const phone: ChildProcess = spawn(BARESIP, ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  phone.stdout!.on('data', (d) => (log += d));
  phone.stderr!.on('data', (d) => (log += d));
  const exited = new Promise<void>((r) => phone.on('exit', () => r()));
  t.teardown(async () => {
    if (phone.exitCode === null && phone.signalCode === null) {
      process.kill(phone.pid!, 'SIGTERM');
      const hard = setTimeout(() => phone.exitCode === null && process.kill(phone.pid!, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(hard);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  t.ok(await until(() => k.isRegistered(USER) || phone.exitCode !== null, 15_000) && k.isRegistered(USER), `baresip registered ${USER}\n${log.slice(-1500)}`);

  const scenario = join(dir, 'call.yaml');
  writeFileSync(scenario, [
    'name: baresip-media',
    'timeout: 30s',
    'media:',
    '  codecs: [PCMU, PCMA]',
    '  tone: 440',
    'load: { model: open, rate: 1, total: 1 }',
    'steps:',
    "  - send: INVITE",
    `    to: 'sip:${USER}@\${target.host}:\${target.port}'`,
    '    expect: 200',
    '  - send: ACK',
    '  - pause: 6s',
    '  - send: BYE',
    '    expect: 200',
    '',
  ].join('\n'));
  const r = await runCli(['run', scenario, '--target', `127.0.0.1:${k.port}`, '--workers', '1']);
  t.equal(r.status, 0, `${r.out.slice(-2000)}\n--- baresip:\n${log.slice(-2000)}`);
  const m = r.result?.media;
  t.ok(m, 'result.json has media');
  if (!m) return;
  t.equal(m.streams, 1);
  t.equal(m.oneWay, 0, 'baresip\'s stream arrived');
  // 6 s of call at 50 packets a second: at least 5 s worth arrived (the count, not a time window).
  t.ok(m.packetsReceived >= 250, `received ${m.packetsReceived} packets from baresip (50 a second)`);
  t.ok(m.packetsLost <= m.packetsExpected * 0.01, `loss ${m.packetsLost} of ${m.packetsExpected} under 1%`);
  t.ok(m.mos.min > 4, `MOS ${m.mos.min} above 4`);
  t.ok(m.packetsSent >= 250, `sipstorm sent ${m.packetsSent} packets`);
  t.ok(m.rtcpReceived >= 1, `baresip's RTCP reports came back (${m.rtcpReceived}): it receives sipstorm's stream`);
  t.ok(await until(() => /terminated/.test(log), 10_000), 'baresip saw the call end');
  // rtcpsummary's line at the end of the call: PR = packets received, PL = packets lost (local, remote).
  t.ok(await until(() => /PR=\d+/.test(log), 5_000), `baresip printed its stream statistics\n${log.slice(-1500)}`);
  const pr = Number(/PR=(\d+)/.exec(log)?.[1] ?? 0);
  t.ok(pr >= 200, `baresip received ${pr} packets of sipstorm's ${m.packetsSent}`);
  t.match(log, /PL=0,/, 'baresip lost none of them');
});
