// `sipstorm serve`: starts the embedded reference server (registrar with digest
// auth, presence, built-in UAS, proxy-lite, fault knobs) until SIGINT/SIGTERM.

import { numberFlag, UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { interrupts } from '../interrupts.js';
import { startServer, type LoginOptions, type ServerFaults } from '../../engine/server/index.js';
import { parseKeytab } from '../../engine/auth/sipae/index.js';
import { readInputFile } from '../../engine/input-file.js';
import type { Protocol } from '../../engine/transport/index.js';
import { hostText } from '../../engine/codec/index.js';
import { digestAlgorithmNamed, type DigestAlgorithm } from '../../engine/auth/index.js';
import { parseFaultFlags, faultFlagSpecs, limitFlagSpecs, parseLimitFlags } from '../fault-flags.js';
import { parseServeLimitFlags, serveLimitFlagSpecs } from '../serve-limit-flags.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the embedded reference SIP server (registrar, presence, UAS, proxy-lite)',
  usage: 'sipstorm serve [--host 127.0.0.1] [--port 5060] [--transport udp,tcp,tls,ws,wss] [--tls-port 5061] [--ws-port 8080] [options]',
  details: `The server answers REGISTER with a digest challenge (users from --user/--password
patterns, default user{n}/secret{n}, or --users-csv), keeps bindings in memory,
serves presence (SUBSCRIBE/NOTIFY with PIDF, PUBLISH, SERVICE), answers INVITE
itself for the built-in users 'service', 'echo' and 'ringing' (rings until
CANCEL), proxies INVITE and MESSAGE to registered contacts with Record-Route,
answers OPTIONS 200 and unknown methods 405. See docs/server.md.`,
  flags: [
    { name: 'host', type: 'string', value: 'ADDR', help: 'address to bind (default 127.0.0.1; use ::1 for IPv6)' },
    { name: 'port', type: 'string', value: 'N', help: 'port to bind (default 5060; 0 picks a free port)' },
    { name: 'transport', type: 'string', value: 'LIST', help: 'comma list of udp, tcp, tls, ws, wss (default udp,tcp)' },
    { name: 'ws-port', type: 'string', value: 'N', help: 'port for WebSocket, RFC 7118 (default 8080; 0 picks a free port)' },
    { name: 'wss-port', type: 'string', value: 'N', help: 'port for secure WebSocket (default 8443; 0 picks a free port; needs --tls-cert and --tls-key)' },
    { name: 'tls-port', type: 'string', value: 'N', help: 'port for TLS (default: --port + 1, as 5060/5061; --port itself if TLS is the only transport; 0 picks a free port)' },
    { name: 'tls-cert', type: 'string', value: 'FILE', help: 'PEM certificate for TLS' },
    { name: 'tls-key', type: 'string', value: 'FILE', help: 'PEM private key for TLS' },
    { name: 'user', type: 'string', value: 'PATTERN', help: "user name pattern over n >= 1 (default 'user{n}')" },
    { name: 'password', type: 'string', value: 'PATTERN', help: "password pattern (default 'secret{n}')" },
    { name: 'users-csv', type: 'string', value: 'FILE', help: 'CSV (RFC 4180, UTF-8) whose header names user and password columns, instead of patterns' },
    { name: 'realm', type: 'string', value: 'REALM', help: "digest realm (default 'sipstorm')" },
    { name: 'digest-algorithms', type: 'string', value: 'LIST', help: "digest challenges offered, preferred first (default md5; e.g. sha-256,md5)" },
    { name: 'auth', type: 'string', value: 'SCHEME', help: 'schemes offered, comma list: digest (default), ntlm, kerberos ([MS-SIPAE] logins with signed messages, as Microsoft\'s SIP servers)' },
    { name: 'keytab', type: 'string', value: 'FILE', help: 'with --auth kerberos: MIT keytab holding the service principal\'s keys (kadmin ktadd)' },
    { name: 'auth-target', type: 'string', value: 'NAME', help: 'MS-SIPAE targetname: NTLM\'s server name (default --host), Kerberos\' service principal (default sip/HOST)' },
    { name: 'auth-invite', type: 'boolean', help: 'challenge INVITE with 407 (off by default: SIPp uac has no credentials)' },
    ...limitFlagSpecs,
    ...serveLimitFlagSpecs,
    ...faultFlagSpecs,
    { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing but errors' },
  ],
  handlesSignals: true,
  async run(args: ParsedArgs): Promise<number> {
    const f = args.flags;
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const port = numberFlag(f, 'port', { min: 0, integer: true }) ?? 5060;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got '${port}'`);
    const tlsPort = numberFlag(f, 'tls-port', { min: 0, integer: true });
    if (tlsPort !== undefined && tlsPort > 65535) throw new UsageError(`--tls-port must be at most 65535, got '${tlsPort}'`);
    const transports = String(f.transport ?? 'udp,tcp').split(',').map((s) => s.trim().toLowerCase());
    for (const t of transports) {
      if (t !== 'udp' && t !== 'tcp' && t !== 'tls' && t !== 'ws' && t !== 'wss') throw new UsageError(`--transport: unknown transport '${t}' (udp, tcp, tls, ws, wss)`);
    }
    for (const t of ['tls', 'wss']) {
      if (transports.includes(t) && (!f['tls-cert'] || !f['tls-key'])) throw new UsageError(`--transport ${t} needs --tls-cert and --tls-key`);
    }
    const wsPort = numberFlag(f, 'ws-port', { min: 0, integer: true });
    const wssPort = numberFlag(f, 'wss-port', { min: 0, integer: true });
    for (const [name, n] of [['ws-port', wsPort], ['wss-port', wssPort]] as const) {
      if (n !== undefined && n > 65535) throw new UsageError(`--${name} must be at most 65535, got '${n}'`);
    }
    if (wsPort !== undefined && !transports.includes('ws')) throw new UsageError('--ws-port needs ws in --transport');
    if (wssPort !== undefined && !transports.includes('wss')) throw new UsageError('--wss-port needs wss in --transport');
    if (tlsPort !== undefined && !transports.includes('tls')) throw new UsageError('--tls-port needs tls in --transport');
    if (tlsPort !== undefined && tlsPort !== 0 && tlsPort === port && transports.includes('tcp')) {
      throw new UsageError(`--tls-port ${tlsPort}: TCP listens on that port already (TLS needs its own)`);
    }
    if (tlsPort === undefined && port === 65535 && transports.includes('tls') && transports.length > 1) {
      throw new UsageError('--port 65535 leaves no next port for TLS: give --tls-port');
    }
    const faults: ServerFaults = parseFaultFlags(f);
    const guard = parseServeLimitFlags(f);
    const server = await startServer({
      host: String(f.host ?? '127.0.0.1'),
      port,
      tlsPort,
      transports: transports as Protocol[],
      wsPort,
      wssPort,
      tls: f['tls-cert'] ? { certFile: String(f['tls-cert']), keyFile: String(f['tls-key']) } : undefined,
      users: f['users-csv']
        ? { csv: String(f['users-csv']) }
        : { user: String(f.user ?? 'user{n}'), password: String(f.password ?? 'secret{n}') },
      realm: f.realm ? String(f.realm) : undefined,
      algorithms: f['digest-algorithms'] !== undefined ? parseDigestAlgorithms(String(f['digest-algorithms'])) : undefined,
      authInvite: Boolean(f['auth-invite']),
      logins: parseLoginFlags(f),
      faults,
      limits: { ...parseLimitFlags(f), ...guard.limits },
      calls: guard.maxCalls !== undefined ? { maxCalls: guard.maxCalls } : undefined,
    });
    if (!f.quiet) {
      for (const ep of server.endpoints) {
        process.stdout.write(`sipstorm serve: listening on ${ep.protocol} ${hostText(ep.host)}:${ep.port}\n`);
      }
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => interrupts.listen(resolve));
    await server.close();
    if (!f.quiet) process.stdout.write(`sipstorm serve: stopped (${signal})\n`);
    return signal === 'SIGINT' ? EXIT.INTERRUPTED : EXIT.TERMINATED;
  },
};

/**
 * `--digest-algorithms sha-256,md5`: one challenge each, in this order (RFC 8760 §2.4: the most
 * preferred first). Names are those of RFC 7616 §6.1 and RFC 8760, in any case.
 */
export function parseDigestAlgorithms(text: string): DigestAlgorithm[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new UsageError("--digest-algorithms needs at least one algorithm (md5, sha-256, sha-512-256, or their -sess forms)");
  const out: DigestAlgorithm[] = [];
  for (const name of names) {
    const algorithm = digestAlgorithmNamed(name);
    if (!algorithm) throw new UsageError(`--digest-algorithms: unknown algorithm '${name}' (md5, md5-sess, sha-256, sha-256-sess, sha-512-256, sha-512-256-sess)`);
    if (out.includes(algorithm)) throw new UsageError(`--digest-algorithms: '${name}' is named twice`);
    out.push(algorithm);
  }
  return out;
}

/** --auth digest,ntlm,kerberos (with --keytab, --auth-target): the schemes offered; MS-SIPAE logins beside or instead of digest. */
function parseLoginFlags(f: Record<string, unknown>): LoginOptions | undefined {
  const schemes = String(f.auth ?? 'digest').toLowerCase().split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of schemes) if (x !== 'digest' && x !== 'ntlm' && x !== 'kerberos') throw new UsageError(`--auth '${x}': expected a list of digest, ntlm, kerberos`);
  if (!schemes.length) throw new UsageError('--auth needs at least one of digest, ntlm, kerberos');
  const kerberos = schemes.includes('kerberos');
  if (f.keytab !== undefined && !kerberos) throw new UsageError('--keytab goes with --auth kerberos');
  if (!kerberos && !schemes.includes('ntlm')) {
    if (f['auth-target'] !== undefined) throw new UsageError('--auth-target goes with --auth ntlm or kerberos');
    return undefined;
  }
  if (kerberos && f.keytab === undefined) throw new UsageError("--auth kerberos needs --keytab FILE (the service principal's keys, from kadmin ktadd)");
  const targetname = f['auth-target'] !== undefined ? String(f['auth-target']) : undefined;
  const file = String(f.keytab);
  return {
    digest: schemes.includes('digest'),
    ntlm: schemes.includes('ntlm') ? { targetname } : undefined,
    kerberos: kerberos ? { keys: parseKeytab(readInputFile(file, 'keytab'), file), targetname } : undefined,
  };
}
