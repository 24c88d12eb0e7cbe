// A real MIT KDC (Debian packages krb5-kdc and krb5-admin-server) started for
// a run: what `sipstorm run` does for a Kerberos scenario against the embedded
// server, and what the tests use. A realm is created in a temp folder with
// kdb5_util, the user principals and the service principal are added with
// kadmin.local (one run, commands on stdin), the service's keys exported to a
// keytab, and krb5kdc runs on a free port (UDP and TCP) on 127.0.0.1 until
// stop() kills it by PID and removes the folder.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dgram from 'node:dgram';
import net from 'node:net';
import { SipstormError } from '../errors.js';

export const KRB5KDC = '/usr/sbin/krb5kdc';

export class KdcStartError extends SipstormError {}

export function kdcAvailable(): boolean {
  return existsSync(KRB5KDC) && existsSync('/usr/sbin/kdb5_util') && existsSync('/usr/sbin/kadmin.local');
}

export interface KdcInstance {
  realm: string;
  port: number;
  /** HOST:PORT for --kdc. */
  address: string;
  keytab: string;
  /** The users' keytab, when asked for. */
  userKeytab?: string;
  log(): string;
  stop(): Promise<void>;
}

export interface KdcOptions {
  realm?: string;
  /** [principal, password] pairs. */
  users: Array<[string, string]>;
  /** Service principals whose keys go into the keytab (random keys). */
  services: string[];
  /** Users whose keys also go into a keytab of their own (`userKeytab`), their passwords kept. */
  userKeytab?: string[];
}

export async function startKdc(o: KdcOptions): Promise<KdcInstance> {
  const realm = o.realm ?? 'SIPSTORM.TEST';
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-kdc-'));
  const port = await freePort();
  // Principals and passwords go to kadmin.local on stdin: a name or password with a newline or space would split the command.
  for (const [name, pw] of o.users) {
    if (/[\s"]/.test(name) || /[\n\r]/.test(pw)) throw new KdcStartError('KDC_SETUP', `principal ${JSON.stringify(name)}: names without spaces and passwords without line breaks only`);
  }
  writeFileSync(join(dir, 'krb5.conf'), `[libdefaults]\n  default_realm = ${realm}\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n[realms]\n  ${realm} = {\n    kdc = 127.0.0.1:${port}\n  }\n`);
  writeFileSync(join(dir, 'kdc.conf'), `[kdcdefaults]\n  kdc_ports = ${port}\n  kdc_tcp_ports = ${port}\n[realms]\n  ${realm} = {\n    database_name = ${dir}/principal\n    key_stash_file = ${dir}/stash\n    acl_file = ${dir}/kadm5.acl\n    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n    default_principal_flags = +preauth\n  }\n[logging]\n  kdc = FILE:${dir}/kdc.log\n`);
  const env = { ...process.env, KRB5_CONFIG: join(dir, 'krb5.conf'), KRB5_KDC_PROFILE: join(dir, 'kdc.conf') };
  const run = (cmd: string, args: string[], input?: string): void => {
    const r = spawnSync(cmd, args, { env, input, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new KdcStartError('KDC_SETUP', `${cmd} ${args[0]} failed: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`);
  };
  run('/usr/sbin/kdb5_util', ['create', '-s', '-r', realm, '-P', 'sipstorm-master-key']);
  const keytab = join(dir, 'service.keytab');
  const commands = [
    ...o.users.map(([name, pw]) => `addprinc -pw ${pw} ${name}`),
    ...o.services.map((s) => `addprinc -randkey ${s}`),
    ...o.services.map((s) => `ktadd -k ${keytab} ${s}`),
    ...(o.userKeytab ?? []).map((u) => `ktadd -norandkey -k ${join(dir, 'users.keytab')} ${u}`),
  ];
  run('/usr/sbin/kadmin.local', ['-r', realm], commands.join('\n') + '\n');
  const child: ChildProcess = spawn(KRB5KDC, ['-n', '-r', realm], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const log = (): string => { try { return readFileSync(join(dir, 'kdc.log'), 'utf8') + stderr; } catch { return stderr; } };
  // Ready when the log says so (bounded).
  for (let i = 0; i < 200 && !log().includes('commencing operation'); i++) {
    if (child.exitCode !== null) throw new KdcStartError('KDC_START', `krb5kdc exited at start: ${log().trim().split('\n').pop()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!log().includes('commencing operation')) {
    child.kill('SIGKILL');
    throw new KdcStartError('KDC_START', 'krb5kdc did not start within 5 s');
  }
  return {
    realm, port, address: `127.0.0.1:${port}`, keytab, log, userKeytab: o.userKeytab?.length ? join(dir, 'users.keytab') : undefined,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A port free for both UDP and TCP on 127.0.0.1 (krb5kdc binds both and cannot take port 0). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
    const ok = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) return port;
  }
  throw new KdcStartError('KDC_START', 'no free port for the KDC');
}
