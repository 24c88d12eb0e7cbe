// Digest authentication of requests by the embedded server (RFC 3261 §22.4):
// challenge with 401 (registrar, presence server: we are the UAS) or 407
// (INVITE when --auth-invite, as a proxy would), verify, detect stale nonces;
// or, with --auth ntlm|kerberos, MS-SIPAE logins and signatures (auth/sipae).

import { buildChallenge, parseAuthorization, verifyAuthorization, type DigestCredentials } from '../auth/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { ServerCore } from './core.js';

/** Returns the authenticated user name, or undefined after answering the request itself. */
export function authenticate(core: ServerCore, tx: ServerTransaction, proxy = false): string | undefined {
  const req = tx.request;
  const header = proxy ? 'Proxy-Authorization' : 'Authorization';
  if (core.sipae) {
    // A UA whose association came from a registrar's 401 signs with Authorization; a proxy's check accepts that too.
    const values = proxy ? [...req.getAll(header), ...req.getAll('Authorization')] : req.getAll(header);
    if (core.sipae.ownsRequest(values)) return authenticateSipae(core, tx, values, proxy, proxy && req.has(header));
  }
  let stale = false;
  for (const value of req.getAll(header)) {
    let cred: DigestCredentials;
    try {
      cred = parseAuthorization(value);
    } catch {
      continue; // RFC 4475 §3.3.7: an unknown scheme is ignored, and the request challenged
    }
    if (cred.realm !== core.realm) continue;
    // An algorithm we did not offer is not one we agreed to: challenge again (RFC 7616 §3.7: the client picks among the offers).
    if (!core.algorithms.includes(cred.algorithm)) continue;
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
  // One challenge per algorithm offered, in the configured order. RFC 8760 §2.4: "the UAS MUST add
  // the WWW-Authenticate header fields in order of preference, with the most preferred algorithm
  // first". The default is MD5 alone: every UA answers it, and some (baresip 1.0) stop at a
  // challenge of an algorithm they do not know instead of skipping it; --digest-algorithms offers more.
  challenge(core, tx, proxy, [
    ...core.algorithms.map((algorithm) => buildChallenge({ realm: core.realm, nonce: core.nonces.issue(), algorithm, qop: 'auth', stale })),
    // Offered beside digest with --auth digest,ntlm,kerberos: each UA answers the scheme it speaks.
    ...(core.sipae?.challenges() ?? []),
  ]);
  return undefined;
}

function challenge(core: ServerCore, tx: ServerTransaction, proxy: boolean, values: string[]): void {
  const name = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  // [MS-SIPAE] §3.3.5.1: the Date lets a client see a clock skew before Kerberos refuses it.
  const date: [string, string][] = core.sipae ? [['Date', new Date().toUTCString()]] : [];
  core.answer(tx, proxy ? 407 : 401, { headers: [...date, ...values.map((v) => [name, v] as [string, string])] });
}

/** [MS-SIPAE] §3.3: NTLM or Kerberos logins and signed requests; the responses are signed in makeAnswer. */
function authenticateSipae(core: ServerCore, tx: ServerTransaction, values: string[], proxy: boolean, viaProxyHeader: boolean): string | undefined {
  const d = core.sipae!.check(tx.request, values);
  if (d.kind === 'challenge') {
    challenge(core, tx, proxy, d.values);
    return undefined;
  }
  if (d.kind === 'forbidden') {
    core.answer(tx, 403, { reason: d.reason });
    return undefined;
  }
  core.signedBy.set(tx, { sa: d.sa, proxy: viaProxyHeader });
  return d.user;
}
