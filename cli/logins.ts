// NTLM and Kerberos logins ([MS-SIPAE]) for `sipstorm run`: --kdc for the
// scenarios whose `auth.scheme` is kerberos, the checks that such a scenario
// can log in at all before any traffic, and, against the embedded server, the
// logins it must offer: NTLM beside digest, and Kerberos with an MIT KDC this
// command starts for the run (a realm with the roles' users and the service
// principal sip/127.0.0.1), stopped at the end. Without Debian's krb5-kdc,
// Kerberos scenarios against the embedded server are skipped, saying why.

import { UsageError, type ParsedArgs } from './args.js';
import type { KdcAddress } from '../engine/auth/sipae/index.js';
// The keytab reader alone: the rest of Kerberos and NTLM is loaded only for a run whose scenarios log in with them.
import { parseKeytab } from '../engine/auth/kerberos/keytab.js';
import type { CompiledScenario } from '../engine/scenario/index.js';
import type { LoginOptions } from '../engine/server/index.js';
import { kdcAvailable, startKdc, type KdcInstance } from '../engine/server/mit-kdc.js';
import { expandPattern } from '../engine/ua/identity.js';
import { readFileSync } from 'node:fs';
import { readInputFile } from '../engine/input-file.js';

export const kdcFlagSpec = { name: 'kdc', type: 'string', value: 'HOST:PORT', help: 'Kerberos KDC for scenarios with auth.scheme kerberos (HOST:PORT, optionally /udp or /tcp); overrides auth.kdc' } as const;

const roleSchemes = (s: CompiledScenario): string[] => s.roles.map((r) => r.auth?.scheme ?? 'digest');
const usesKerberos = (s: CompiledScenario): boolean => roleSchemes(s).includes('kerberos');

/** --kdc HOST:PORT onto every Kerberos role, checked; a UsageError for a bad address. */
export async function applyKdcFlag(f: ParsedArgs['flags'], scenarios: CompiledScenario[]): Promise<void> {
  if (f.kdc === undefined) return;
  const { parseKdcAddress } = await import('../engine/auth/sipae/index.js');
  let kdc: KdcAddress;
  try {
    kdc = parseKdcAddress(String(f.kdc));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  for (const s of scenarios) for (const r of s.roles) if (r.auth?.scheme === 'kerberos') r.auth.kdc = `${kdc.host}:${kdc.port}/${kdc.transport}`;
}

/** Against a given target: a Kerberos role needs its KDC and realm before any traffic. */
export function checkTargetLogins(scenarios: CompiledScenario[]): void {
  for (const s of scenarios) {
    for (const r of s.roles) {
      if (r.auth?.scheme !== 'kerberos') continue;
      if (!r.auth.kdc) throw new UsageError(`${s.file}: role '${r.name}' logs in with Kerberos: give --kdc HOST:PORT (or auth.kdc)`);
      if (!r.auth.realm) throw new UsageError(`${s.file}: role '${r.name}' logs in with Kerberos: give auth.realm (the realm of the users' principals)`);
      if (r.auth.keytab) parseKeytab(readInputFile(r.auth.keytab, 'keytab'), r.auth.keytab); // a bad keytab: one line, exit 2, before any traffic
    }
  }
}

/** Kerberos scenarios the embedded server cannot serve on this machine (no krb5-kdc), with why; removed from `scenarios`. */
export function dropUnservable(scenarios: CompiledScenario[], embedded: (s: CompiledScenario) => boolean, warn: (line: string) => void): void {
  if (kdcAvailable()) return;
  for (let i = scenarios.length - 1; i >= 0; i--) {
    const s = scenarios[i]!;
    if (!usesKerberos(s) || !embedded(s) || s.roles.some((r) => r.auth?.kdc)) continue;
    warn(`sipstorm: skipping ${s.file}: its Kerberos login needs a KDC, and Debian's krb5-kdc is not installed to start one (apt-get install krb5-kdc krb5-admin-server), nor was --kdc given`);
    scenarios.splice(i, 1);
  }
}

const EMBEDDED_REALM = 'SIPSTORM.TEST';
/** Principals made for one role when its users have no count (the load's total, if smaller). */
const DEFAULT_PRINCIPALS = 1000;

export interface EmbeddedLogins {
  server?: LoginOptions;
  stop(): Promise<void>;
}

/**
 * What the embedded server offers for these scenarios: nothing more than digest when none logs in with NTLM or
 * Kerberos; NTLM beside digest; Kerberos with a KDC started here (unless the roles name their own with --kdc).
 */
export async function embeddedLogins(scenarios: CompiledScenario[], log: (s: string) => void): Promise<EmbeddedLogins> {
  const schemes = new Set(scenarios.flatMap(roleSchemes));
  if (!schemes.has('ntlm') && !schemes.has('kerberos')) return { stop: async () => {} };
  const server: LoginOptions = { digest: true, ntlm: schemes.has('ntlm') ? {} : undefined };
  let kdc: KdcInstance | undefined;
  const ownKdc = scenarios.flatMap((s) => s.roles).filter((r) => r.auth?.scheme === 'kerberos' && !r.auth.kdc);
  if (ownKdc.length) {
    const users = new Map<string, string>();
    for (const r of ownKdc) {
      const count = Math.min(r.users.count ?? r.load.total ?? DEFAULT_PRINCIPALS, DEFAULT_PRINCIPALS * 10);
      for (let n = r.users.first; n < r.users.first + count; n++) users.set(expandPattern(r.users.user, n), expandPattern(r.users.password, n));
    }
    kdc = await startKdc({ realm: EMBEDDED_REALM, users: [...users], services: ['sip/127.0.0.1'] });
    for (const r of ownKdc) Object.assign(r.auth!, { kdc: kdc.address, realm: r.auth!.realm ?? EMBEDDED_REALM });
    server.kerberos = { keys: parseKeytab(readFileSync(kdc.keytab), kdc.keytab) };
    log(`embedded KDC: realm ${EMBEDDED_REALM} at ${kdc.address} (${users.size} principals)`);
  }
  return { server, stop: async () => { await kdc?.stop(); } };
}
