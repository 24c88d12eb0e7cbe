// `sipstorm serve --transport udp,tcp,tls`: TLS listens on its own port (TCP
// holds the main one), the port after --port by default (5060/5061), or
// --tls-port, printed at start; runs over TLS against it pass, calls between
// roles included.

import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCli } from '../support/cli.js';
import { opensslAvailable, selfSignedCert } from '../support/certs.js';
import { freePort } from '../support/ports.js';

interface Served {
  child: ChildProcess;
  /** The "listening on" lines, by transport. */
  ports: Record<string, number>;
}

/** Starts serve and waits for its three "listening on" lines (or its exit). */
function serve(t: Test, args: string[]): Promise<Served | { exit: number | null; out: string }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--transport', 'udp,tcp,tls', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  let out = '';
  return new Promise((resolve) => {
    const ports: Record<string, number> = {};
    const onData = (d: Buffer) => {
      out += d;
      for (const m of out.matchAll(/listening on (udp|tcp|tls) 127\.0\.0\.1:(\d+)/g)) ports[m[1]!] = Number(m[2]);
      if (Object.keys(ports).length === 3) resolve({ child, ports });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ exit: code, out }));
  });
}


/** A port P with P+1 free too (for the default TLS port). */
async function freePair(): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p >= 65535) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(p + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return p;
  }
}

t.test('serve with udp, tcp and tls', { skip: !opensslAvailable() && process.env.CI !== 'true' && 'openssl not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-serve-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { certFile, keyFile } = selfSignedCert(dir);
  const tlsFlags = ['--tls-cert', certFile, '--tls-key', keyFile];

  await t.test('--port 0: every transport listens, TLS on a port of its own, printed', async (t) => {
    const s = await serve(t, ['--port', '0', ...tlsFlags]);
    if (!('ports' in s)) return t.fail(`serve exited ${s.exit}: ${s.out}`);
    t.equal(s.ports.udp, s.ports.tcp, 'UDP and TCP share the port');
    t.not(s.ports.tls, s.ports.tcp, 'TLS has its own');
    const r = await runCli(['run', 'scenarios/options.yaml', '--target', `sips:127.0.0.1:${s.ports.tls}`, '--tls-ca', certFile, '--no-reports', '--workers', '1']);
    t.equal(r.status, 0, r.out);
    t.match(r.out, /PASSED: 10 started, 10 passed/, 'OPTIONS over TLS answered');
    // Calls between two roles over TLS: the proxy reaches the callee over the connection it opened (its Via's
    // RFC 5923 alias), since a UA has no certificate to accept one.
    const calls = await runCli(['run', 'scenarios/uas-call.yaml', '--target', `sips:127.0.0.1:${s.ports.tls}`, '--tls-ca', certFile, '--no-reports', '--workers', '2', '--users', '20', '--total', '20']);
    t.equal(calls.status, 0, calls.out);
    t.match(calls.out, /PASSED: 40 started, 40 passed, 0 failed/, '20 calls over TLS through serve');
  });

  await t.test('--port P: TLS on P+1 by default', async (t) => {
    const p = await freePair();
    const s = await serve(t, ['--port', String(p), ...tlsFlags]);
    if (!('ports' in s)) return t.fail(`serve exited ${s.exit}: ${s.out}`);
    t.same(s.ports, { udp: p, tcp: p, tls: p + 1 });
  });

  await t.test('--tls-port Q', async (t) => {
    const p = await freePort();
    let q = await freePort();
    while (q === p) q = await freePort();
    const s = await serve(t, ['--port', String(p), '--tls-port', String(q), ...tlsFlags]);
    if (!('ports' in s)) return t.fail(`serve exited ${s.exit}: ${s.out}`);
    t.same(s.ports, { udp: p, tcp: p, tls: q });
  });

  await t.test('--tls-port equal to --port is bad input', async (t) => {
    const p = await freePort();
    const s = await serve(t, ['--port', String(p), '--tls-port', String(p), ...tlsFlags]);
    t.ok('exit' in s && s.exit === 2, 'exit 2');
    if ('out' in s) t.match(s.out, /^sipstorm: --tls-port \d+: TCP listens on that port already \(TLS needs its own\)\n$/);
  });
});
