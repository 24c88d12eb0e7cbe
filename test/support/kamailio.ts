// Starts a real Kamailio (Debian package kamailio) for interop tests: the
// shipped config, a free port on 127.0.0.1 for UDP and TCP (and, asked for, a
// second one for TLS with a self-signed certificate made by openssl in the
// temp folder, a third for SIP over WebSocket with xhttp and websocket), a
// control socket in that folder for kamcmd, killed by PID at teardown.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { freePort } from './ports.js';
import { opensslAvailable, selfSignedCert } from './certs.js';

export const KAMAILIO = '/usr/sbin/kamailio';

export function kamailioAvailable(): boolean {
  return existsSync(KAMAILIO) && existsSync('/usr/sbin/kamcmd') && existsSync('/usr/lib/x86_64-linux-gnu/kamailio/modules/presence.so');
}

/** Kamailio's TLS module (Debian package kamailio-tls-modules) and openssl to make its certificate. */
export function kamailioTlsAvailable(): boolean {
  return existsSync('/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so') && opensslAvailable();
}

/** Kamailio's WebSocket module and xhttp (Debian package kamailio-websocket-modules), and nathelper. */
export function kamailioWsAvailable(): boolean {
  return ['websocket', 'xhttp', 'nathelper'].every((m) => existsSync(`/usr/lib/x86_64-linux-gnu/kamailio/modules/${m}.so`));
}

export interface KamailioOptions {
  tls?: boolean;
  /** A WebSocket listener (ws://127.0.0.1:wsPort/). */
  ws?: boolean;
}

export interface KamailioInstance {
  host: string;
  /** UDP and TCP. */
  port: number;
  /** TLS, when started with tls: true. */
  tlsPort?: number;
  /** The self-signed certificate of the TLS listener (pass it as --tls-ca). */
  tlsCert?: string;
  /** WebSocket, when started with ws: true. */
  wsPort?: number;
  /** Number of AORs with a binding, from Kamailio's own statistics (kamcmd). */
  registeredUsers(): number;
  /** Whether Kamailio's location table has a binding for this user (kamcmd ul.lookup). */
  isRegistered(user: string): boolean;
  stop(): Promise<void>;
  log(): string;
}

/**
 * Kamailio for one test: stopped at the test's teardown; when it cannot start, the test fails with why and
 * undefined comes back.
 */
export async function kamailioForTest(t: { fail(message: string): void; teardown(fn: () => unknown): void }, opts: KamailioOptions = {}): Promise<KamailioInstance | undefined> {
  try {
    const k = await startKamailio(opts);
    t.teardown(() => k.stop());
    return k;
  } catch (err) {
    t.fail(String(err));
    return undefined;
  }
}

export async function startKamailio(opts: KamailioOptions = {}): Promise<KamailioInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const port = await freePort();
  const tlsArgs: string[] = [];
  let tlsPort: number | undefined;
  let tlsCert: string | undefined;
  if (opts.tls) {
    const { certFile, keyFile } = selfSignedCert(dir);
    tlsCert = certFile;
    tlsPort = await freePort();
    tlsArgs.push('-l', `tls:127.0.0.1:${tlsPort}`, '-A', 'WITH_TLS', '-A', `TLS_CERT="${certFile}"`, '-A', `TLS_KEY="${keyFile}"`);
  }
  let wsPort: number | undefined;
  if (opts.ws) {
    // Each TCP connection holds a 64 KB read buffer in shared memory: 1,000 WebSocket UAs need more than the 64 MB.
    wsPort = await freePort();
    tlsArgs.push('-l', `tcp:127.0.0.1:${wsPort}`, '-A', 'WITH_WS');
  }
  const ctl = join(dir, 'ctl.sock');
  const cfg = new URL('../../../test/fixtures/kamailio/kamailio.cfg', import.meta.url).pathname;
  const pidFile = join(dir, 'kamailio.pid');
  // db_text tables for the presence modules, from Kamailio's own schema files.
  for (const table of ['version', 'presentity', 'active_watchers', 'watchers', 'xcap', 'pua']) {
    copyFileSync(join('/usr/share/kamailio/dbtext/kamailio', table), join(dir, table));
  }
  const child: ChildProcess = spawn(
    KAMAILIO,
    ['-f', cfg, '-DD', '-E', '-l', `udp:127.0.0.1:${port}`, '-l', `tcp:127.0.0.1:${port}`, ...tlsArgs, '-A', `CTLSOCK="unix:${ctl}"`, '-A', `DBURL="text://${dir}"`, '-P', pidFile, '-m', opts.ws ? '256' : '64', '-M', '8', '-w', dir, '-Y', dir],
    // Its own process group, so that stop() can end Kamailio's forked children too.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // Ready when it answers OPTIONS.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const deadline = Date.now() + 10_000;
  let ready = false;
  sock.on('message', () => (ready = true));
  while (!ready && Date.now() < deadline && child.exitCode === null) {
    const lp = sock.address().port;
    const msg = `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${lp};branch=z9hG4bKprobe${Date.now()}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1:${port}>\r\nCall-ID: probe-${Date.now()}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    sock.send(msg, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
  }
  sock.close();
  if (!ready) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kamailio did not start:\n${output.split('\n').filter((l) => /ERROR|CRITICAL|error/.test(l)).slice(0, 10).join('\n') || output.slice(-2000)}`);
  }
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    tlsCert,
    wsPort,
    registeredUsers() {
      // ul.dump answers "reply too big" for 1,000 contacts; the usrloc statistics and
      // ul.lookup are Kamailio's own view too.
      const r = kamcmd(ctl, ['stats.get_statistics', 'usrloc:']);
      const m = /usrloc:location_users = (\d+)/.exec(r);
      return m ? Number(m[1]) : NaN;
    },
    isRegistered(user: string) {
      return /AoR:/.test(kamcmd(ctl, ['ul.lookup', 'location', user]));
    },
    async stop() {
      const group = -child.pid!;
      try {
        process.kill(group, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(group, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 3000);
      if (child.exitCode === null && child.signalCode === null) await exited;
      clearTimeout(t);
      // The forked children hold the output pipes: make sure none is left, and close our ends.
      try {
        process.kill(group, 'SIGKILL');
      } catch {
        /* all gone */
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}

function kamcmd(ctl: string, args: string[]): string {
  const r = spawnSync('/usr/sbin/kamcmd', ['-s', `unix:${ctl}`, ...args], { encoding: 'utf8', timeout: 10_000 });
  return r.stdout ?? '';
}
