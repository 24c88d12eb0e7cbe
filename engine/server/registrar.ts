// REGISTER handling (RFC 3261 §10.3): authenticate, then add, refresh or
// remove bindings, and answer 200 with every current binding and its expiry.

import { parseUri, SipParseError } from '../codec/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import { authenticate } from './auth.js';
import type { ServerCore } from './core.js';
import type { Binding, LocationService } from './location.js';

export interface RegistrarOptions {
  defaultExpires: number;
  minExpires: number;
  maxExpires: number;
}

export function aorOf(uriText: string): string {
  const u = parseUri(uriText);
  return `${u.user ?? ''}@${u.host.toLowerCase()}`;
}

export function handleRegister(core: ServerCore, loc: LocationService, opts: RegistrarOptions, tx: ServerTransaction, source: Endpoint): void {
  const req = tx.request;
  // §10.3 step 1-3 / RFC 4475 §3.3.4: To, From and Contact must be SIP URIs for a SIP registrar.
  let aor: string;
  try {
    const to = parseUri(req.to().uri);
    if (to.scheme !== 'sip' && to.scheme !== 'sips') {
      core.answer(tx, 400, { reason: 'Bad Request (To must be a SIP URI)' });
      return;
    }
    for (const c of req.contacts()) {
      const s = parseUri(c.uri).scheme;
      if (s !== 'sip' && s !== 'sips') {
        core.answer(tx, 400, { reason: 'Bad Request (Contact must be a SIP URI)' });
        return;
      }
    }
    aor = `${to.user ?? ''}@${to.host.toLowerCase()}`;
  } catch (err) {
    core.answer(tx, 400, { reason: err instanceof SipParseError ? `Bad Request (${err.message.slice(0, 80)})` : 'Bad Request' });
    return;
  }
  const user = authenticate(core, tx);
  if (user === undefined) return;
  if (aor.slice(0, aor.lastIndexOf('@')) !== user) {
    // §10.3 step 6: the authenticated user must be allowed to register this AOR.
    core.answer(tx, 403, { reason: 'Forbidden (not your address of record)' });
    return;
  }
  const now = core.wheel.now();
  const headerExpires = req.expires();
  const callId = req.callId();
  const cseq = req.cseq().seq;
  let bindings = loc.lookup(aor);
  if (req.isWildcardContact()) {
    // §10.3 step 6: "*" only with Expires: 0, and alone.
    if (headerExpires !== 0) {
      core.answer(tx, 400, { reason: "Bad Request (Contact: * needs Expires: 0)" });
      return;
    }
    for (const b of bindings) loc.byUri.delete(b.uri);
    loc.set(aor, []);
    core.answer(tx, 200);
    return;
  }
  const contacts = req.contacts();
  for (const c of contacts) {
    const p = c.params.get('expires');
    const expires = Math.min(p != null ? Number(p) : headerExpires ?? opts.defaultExpires, opts.maxExpires);
    // §10.3 step 7: an interval below the minimum is answered 423 with Min-Expires.
    if (expires > 0 && expires < opts.minExpires) {
      core.answer(tx, 423, { headers: [['Min-Expires', String(opts.minExpires)]] });
      return;
    }
    const existing = bindings.find((b) => b.uri === c.uri);
    if (existing && existing.callId === callId && existing.cseq >= cseq) {
      // §10.3 step 7: an out-of-order REGISTER for the same Call-ID is not applied.
      core.answer(tx, 500, { reason: 'Server Internal Error (out-of-order CSeq)' });
      return;
    }
    bindings = bindings.filter((b) => b.uri !== c.uri);
    if (expires === 0) {
      loc.byUri.delete(c.uri);
      continue;
    }
    const binding: Binding = { contact: c.uri, uri: c.uri, expiresAt: now + expires * 1000, callId, cseq, source };
    bindings.push(binding);
    loc.byUri.set(c.uri, aor);
  }
  loc.set(aor, bindings);
  const headers: [string, string][] = bindings.map((b) => ['Contact', `<${b.uri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`]);
  if (contacts.length > 0 || bindings.length > 0) {
    const first = contacts[0];
    const granted = first ? bindings.find((b) => b.uri === first.uri) : undefined;
    headers.push(['Expires', String(granted ? Math.round((granted.expiresAt - now) / 1000) : 0)]);
  }
  headers.push(['Date', new Date().toUTCString()]);
  core.answer(tx, 200, { headers });
}
