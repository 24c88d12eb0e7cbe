// A UA's NTLM or Kerberos login ([MS-SIPAE], engine/auth/sipae) as the UAC
// side uses it: the SipaeClient made once per UA from its role's `auth`
// setting and kept in its UaState across instances (like its CSeq), the
// signature added to every request inside the association, and the check of
// the server's signature on a final response.

import type { Key, KeytabEntry, SipaeClient } from '../auth/sipae/index.js';
import { keysFor, parseKeytab } from '../auth/kerberos/keytab.js';
import type { SipMessage } from '../codec/index.js';
import { SipstormError } from '../errors.js';
import { readInputFile } from '../input-file.js';
import type { AuthSettings, CompiledScenario } from '../scenario/index.js';
import type { Identity } from './identity.js';
import type { UaState } from './ua-host.js';

/**
 * engine/auth/sipae (Kerberos, NTLM, asn1js: about 40 ms of CPU to load), loaded by loadMsLogin only in a thread
 * whose scenario logs in with NTLM or Kerberos. Module state on purpose: each worker thread loads its own.
 */
let sipae: typeof import('../auth/sipae/index.js') | undefined;

/** Loads the NTLM/Kerberos client when a role of `scenario` logs in with one (WorkerRuntime.create, before any UA). */
export async function loadMsLogin(scenario: CompiledScenario): Promise<void> {
  if (scenario.roles.some((r) => r.auth !== undefined && r.auth.scheme !== 'digest')) sipae ??= await import('../auth/sipae/index.js');
}

/** Keytabs of `auth.keytab`, read once per worker (checked before the run by cli/logins.ts). */
const keytabs = new Map<string, KeytabEntry[]>();

function userKeys(file: string, user: string, realm: string | undefined): Key[] {
  let entries = keytabs.get(file);
  if (!entries) keytabs.set(file, (entries = parseKeytab(readInputFile(file, 'keytab'), file)));
  return keysFor(entries, user, realm).map((e) => e.key);
}

/** The UA's login when its role's auth scheme is ntlm or kerberos; undefined for digest. */
export function sipaeClientOf(state: UaState, auth: AuthSettings | undefined, me: Identity): SipaeClient | undefined {
  if (!auth || auth.scheme === 'digest') return undefined;
  if (!sipae) throw new SipstormError('MS_LOGIN_NOT_LOADED', `an ${auth.scheme} login in a runtime made without loadMsLogin (a sipstorm bug)`);
  const { parseKdcAddress, SipaeClient } = sipae;
  return (state.sipae ??= new SipaeClient({
    scheme: auth.scheme, user: me.user, password: me.password, domain: auth.domain ?? '', workstation: 'SIPSTORM',
    kdc: auth.kdc ? parseKdcAddress(auth.kdc) : undefined, kerberosRealm: auth.realm, now: Date.now,
    kerberosKeys: auth.keytab ? userKeys(auth.keytab, me.user, auth.realm) : undefined,
  }));
}

/** A request inside the UA's association carries its signature ([MS-SIPAE] §3.2.5.3). */
export function signRequest(state: UaState, req: SipMessage): void {
  const value = state.sipae?.signRequest(req);
  if (value) req.set(state.sipaeProxy ? 'Proxy-Authorization' : 'Authorization', value);
}

/** Why a final response's signature is refused, or undefined (also when the UA has no login). */
export function signatureRefused(state: UaState, res: SipMessage): string | undefined {
  if (!state.sipae) return undefined;
  return state.sipae.checkResponse(res, res.getAll(state.sipaeProxy ? 'Proxy-Authentication-Info' : 'Authentication-Info'));
}
