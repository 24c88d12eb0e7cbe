// A UA's NTLM or Kerberos login ([MS-SIPAE], engine/auth/sipae) as the UAC
// side uses it: the SipaeClient made once per UA from its role's `auth`
// setting and kept in its UaState across instances (like its CSeq), the
// signature added to every request inside the association, and the check of
// the server's signature on a final response.

import { keysFor, parseKdcAddress, parseKeytab, SipaeClient, type Key, type KeytabEntry } from '../auth/sipae/index.js';
import type { SipMessage } from '../codec/index.js';
import { readInputFile } from '../input-file.js';
import type { AuthSettings } from '../scenario/index.js';
import type { Identity } from './identity.js';
import type { UaState } from './ua-host.js';

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
