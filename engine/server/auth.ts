// Digest authentication of requests by the embedded server (RFC 3261 §22.4):
// challenge with 401 (registrar, presence server: we are the UAS) or 407
// (INVITE when --auth-invite, as a proxy would), verify, detect stale nonces.

import { buildChallenge, parseAuthorization, verifyAuthorization, type DigestCredentials } from '../auth/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { ServerCore } from './core.js';

/** Returns the authenticated user name, or undefined after answering the request itself. */
export function authenticate(core: ServerCore, tx: ServerTransaction, proxy = false): string | undefined {
  const req = tx.request;
  const header = proxy ? 'Proxy-Authorization' : 'Authorization';
  let stale = false;
  for (const value of req.getAll(header)) {
    let cred: DigestCredentials;
    try {
      cred = parseAuthorization(value);
    } catch {
      continue; // RFC 4475 §3.3.7: an unknown scheme is ignored, and the request challenged
    }
    if (cred.realm !== core.realm) continue;
    const verdict = core.nonces.check(cred.nonce, cred.qop ? cred.nc : undefined);
    if (verdict === 'stale') {
      stale = true;
      continue;
    }
    if (verdict !== 'ok') continue;
    const password = core.users.password(cred.username);
    if (password === undefined || !verifyAuthorization(cred, req.method, password, req.body)) {
      core.answer(tx, 403, { reason: 'Forbidden (bad credentials)' });
      return undefined;
    }
    return cred.username;
  }
  // RFC 8760 §2.4 wants the preferred algorithm first; the default order is MD5 first because
  // SIPp (3.6) answers only the first challenge and only with MD5. Clients that support
  // SHA-256 (sipstorm's UA) still pick it, as RFC 7616 §3.7 lets them.
  const headerName = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  core.answer(tx, proxy ? 407 : 401, {
    headers: core.algorithms.map((algorithm) => [headerName, buildChallenge({ realm: core.realm, nonce: core.nonces.issue(), algorithm, qop: 'auth', stale })] as [string, string]),
  });
  return undefined;
}
