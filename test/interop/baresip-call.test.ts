// A call to a real phone: baresip (Debian's baresip-core) registers to a real
// Kamailio over UDP with auto-answer, and sipstorm calls it through Kamailio
// with the callee given on the command line (--var callee=user900): INVITE ->
// 200 -> ACK -> BYE -> 200. baresip runs headless from a temp config folder
// (no audio device: a WAV file of silence as its source, /dev/null as its
// player), bound to 127.0.0.1 on a port of its choosing, killed by PID.

import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { kamailioAvailable, kamailioForTest } from '../support/kamailio.js';

const BARESIP = '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';
const NEEDED = ['g711.so', 'aufile.so', 'account.so', 'menu.so'];
const USER = 'user900'; // the test Kamailio's registrar: user{n} has password secret{n}

const baresipAvailable = existsSync(BARESIP) && NEEDED.every((m) => existsSync(join(MODULES, m)));
const missing = !baresipAvailable ? 'baresip (baresip-core) not installed' : !kamailioAvailable() ? 'kamailio (with presence modules) not installed' : undefined;
if (missing && process.env.CI === 'true') t.fail(`${missing}, and CI=true: install baresip-core and kamailio`);

/** 16-bit mono PCM at 8 kHz, all zeros: what baresip's aufile source plays (it hangs up when the file ends). */
function silenceWav(seconds: number): Buffer {
  const data = 8000 * 2 * seconds;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data, 40);
  return Buffer.concat([h, Buffer.alloc(data)]);
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (what()) return true;
  return what();
}

t.test('a call to a baresip phone registered at Kamailio, callee given with --var, completes', { skip: missing }, async (t) => {
  const k = await kamailioForTest(t);
  if (!k) return;

  const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
  writeFileSync(join(dir, 'silence.wav'), silenceWav(60));
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll',
    'net_interface 127.0.0.1',
    'sip_listen 127.0.0.1:0',
    `audio_source aufile,${join(dir, 'silence.wav')}`,
    'audio_player aufile,/dev/null',
    'audio_alert aufile,/dev/null',
    `module_path ${MODULES}`,
    'module g711.so',
    'module aufile.so',
    'module_app account.so',
    'module_app menu.so', // answermode=auto is carried out by the menu module
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'accounts'), `<sip:${USER}@127.0.0.1:${k.port};transport=udp>;auth_pass=secret900;answermode=auto;regint=300\n`);
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

  t.ok(await until(() => k.isRegistered(USER) || phone.exitCode !== null, 15_000) && k.isRegistered(USER), `baresip registered ${USER} at Kamailio\n${log.slice(-1500)}`);
  const r = await runCli(['run', 'scenarios/interop/call.yaml', '--target', `127.0.0.1:${k.port}`, '--var', `callee=${USER}`, '--workers', '1']);
  t.equal(r.status, 0, `${r.out.slice(-2000)}\n--- baresip:\n${log.slice(-2000)}`);
  t.match(r.out, /PASSED: 1 started, 1 passed, 0 failed/);
  const steps = Object.fromEntries(r.result.scenarios[0].roles[0].steps.map((s: { name: string }) => [s.name, s]));
  t.equal(steps.INVITE.codes['200'], 1, 'the phone answered the INVITE 200');
  t.equal(steps.ACK.passed, 1, 'the 2xx was acknowledged');
  t.equal(steps.BYE.codes['200'], 1, 'and the BYE got 200');
  t.equal(r.result.scenarios[0].transport.unexpectedRequests, 0, 'the phone did not hang up on its own');
  t.ok(await until(() => /Call established/.test(log) && /terminated/.test(log), 10_000), 'baresip saw the call established (ACK) and ended (BYE)');
});
