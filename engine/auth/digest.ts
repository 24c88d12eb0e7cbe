// HTTP Digest authentication as SIP uses it (RFC 3261 §22.4): RFC 2617 and
// RFC 7616 (qop auth / auth-int, -sess algorithms, SHA-256), with RFC 8760's
// SHA-256 and SHA-512/256 for SIP. Client side builds Authorization values from
// a challenge; server side parses and verifies them. Passwords never leave here.

import { createHash, randomBytes } from 'node:crypto';
import { SipstormError } from '../errors.js';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

export class DigestError extends SipstormError {}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  qop?: string[];
  stale?: boolean;
  domain?: string;
}

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce?: string;
  nc?: string;
  qop?: string;
  opaque?: string;
}

const ALGORITHMS: Record<string, DigestAlgorithm> = {
  'md5': 'MD5', 'md5-sess': 'MD5-sess', 'sha-256': 'SHA-256', 'sha-256-sess': 'SHA-256-sess',
  'sha-512-256': 'SHA-512-256', 'sha-512-256-sess': 'SHA-512-256-sess',
};
// Preference when a response carries several challenges (RFC 7616 §3.7: strongest first).
const STRENGTH: Record<DigestAlgorithm, number> = { 'SHA-512-256': 6, 'SHA-512-256-sess': 5, 'SHA-256': 4, 'SHA-256-sess': 3, 'MD5': 2, 'MD5-sess': 1 };

function hashName(alg: DigestAlgorithm): string {
  if (alg.startsWith('SHA-512-256')) return 'sha512-256';
  return alg.startsWith('SHA-256') ? 'sha256' : 'md5';
}

function H(alg: DigestAlgorithm, data: string | Buffer): string {
  return createHash(hashName(alg)).update(data).digest('hex');
}

/** Parses 'Digest k=v, k="v"' into a lower-cased map; quoted strings unescaped. */
export function parseAuthParams(value: string): { scheme: string; params: Map<string, string> } {
  const m = /^\s*([A-Za-z0-9_-]+)\s*(.*)$/s.exec(value);
  if (!m) throw new DigestError('DIGEST_PARSE', `authentication header '${value.slice(0, 40)}': missing scheme`);
  const params = new Map<string, string>();
  const text = m[2]!;
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /[\s,]/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new DigestError('DIGEST_PARSE', `authentication header: parameter without '=' near '${text.slice(i, i + 20)}'`);
    const name = text.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (text[i] === ' ' || text[i] === '\t') i++;
    let v = '';
    if (text[i] === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const ch = text[i]!;
        if (ch === '\\' && i + 1 < text.length) {
          v += text[i + 1];
          i += 2;
        } else if (ch === '"') {
          i++;
          closed = true;
          break;
        } else {
          v += ch;
          i++;
        }
      }
      if (!closed) throw new DigestError('DIGEST_PARSE', `authentication header: unterminated quoted value of '${name}'`);
    } else {
      const end = text.indexOf(',', i);
      v = (end < 0 ? text.slice(i) : text.slice(i, end)).trim();
      i = end < 0 ? text.length : end;
    }
    params.set(name, v);
  }
  return { scheme: m[1]!, params };
}

/** A digest algorithm named in any case ('sha-256', 'MD5'), or undefined when it is not one we implement. */
export function digestAlgorithmNamed(name: string): DigestAlgorithm | undefined {
  return ALGORITHMS[name.trim().toLowerCase()];
}

function algorithmOf(v: string | undefined): DigestAlgorithm | undefined {
  return v === undefined ? 'MD5' : ALGORITHMS[v.toLowerCase()];
}

export function parseChallenge(value: string): DigestChallenge {
  const { scheme, params } = parseAuthParams(value);
  if (scheme.toLowerCase() !== 'digest') throw new DigestError('DIGEST_SCHEME', `unsupported authentication scheme '${scheme}'`);
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined) throw new DigestError('DIGEST_PARSE', 'digest challenge without realm or nonce');
  const algorithm = algorithmOf(params.get('algorithm'));
  if (!algorithm) throw new DigestError('DIGEST_ALGORITHM', `unsupported digest algorithm '${params.get('algorithm')}'`);
  const qop = params.get('qop');
  return {
    realm,
    nonce,
    opaque: params.get('opaque'),
    algorithm,
    qop: qop ? qop.split(',').map((q) => q.trim()).filter(Boolean) : undefined,
    stale: params.get('stale')?.toLowerCase() === 'true',
    domain: params.get('domain'),
  };
}

/** Of several challenges (one per WWW-Authenticate line), the strongest we support. */
export function pickChallenge(values: string[]): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const v of values) {
    let ch: DigestChallenge;
    try {
      ch = parseChallenge(v);
    } catch {
      continue;
    }
    if (!best || STRENGTH[ch.algorithm] > STRENGTH[best.algorithm]) best = ch;
  }
  return best;
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  realm: string;
  password: string;
  method: string;
  uri: string;
  nonce: string;
  cnonce?: string;
  nc?: string;
  qop?: string;
  body?: Buffer;
}

/** RFC 7616 §3.4.1-3.4.3: request-digest. */
export function computeResponse(d: DigestInput): string {
  let ha1 = H(d.algorithm, `${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = H(d.algorithm, `${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  const a2 = d.qop === 'auth-int' ? `${d.method}:${d.uri}:${H(d.algorithm, d.body ?? Buffer.alloc(0))}` : `${d.method}:${d.uri}`;
  const ha2 = H(d.algorithm, a2);
  if (d.qop === 'auth' || d.qop === 'auth-int') return H(d.algorithm, `${ha1}:${d.nonce}:${d.nc}:${d.cnonce}:${d.qop}:${ha2}`);
  return H(d.algorithm, `${ha1}:${d.nonce}:${ha2}`); // RFC 2069 compatibility: no qop
}

export interface ClientAuthState {
  /** Nonce count for this nonce; incremented per use. */
  nc: number;
  cnonce?: string;
}

function quote(v: string): string {
  return `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

/** Builds the value of Authorization / Proxy-Authorization answering a challenge. */
export function buildAuthorization(
  ch: DigestChallenge,
  req: { method: string; uri: string; body?: Buffer },
  cred: { username: string; password: string },
  state: ClientAuthState,
): string {
  // Prefer auth-int only when auth is not offered: it hashes the body every time.
  const qop = ch.qop?.includes('auth') ? 'auth' : ch.qop?.includes('auth-int') ? 'auth-int' : undefined;
  state.nc += 1;
  const nc = state.nc.toString(16).padStart(8, '0');
  const cnonce = state.cnonce ?? randomBytes(8).toString('hex');
  state.cnonce = cnonce;
  const response = computeResponse({
    algorithm: ch.algorithm, username: cred.username, realm: ch.realm, password: cred.password,
    method: req.method, uri: req.uri, nonce: ch.nonce, cnonce, nc, qop, body: req.body,
  });
  let v = `Digest username=${quote(cred.username)}, realm=${quote(ch.realm)}, nonce=${quote(ch.nonce)}, uri=${quote(req.uri)}, response=${quote(response)}, algorithm=${ch.algorithm}`;
  if (qop) v += `, qop=${qop}, nc=${nc}, cnonce=${quote(cnonce)}`;
  else if (ch.algorithm.endsWith('-sess')) v += `, cnonce=${quote(cnonce)}`; // -sess hashes the cnonce into HA1
  if (ch.opaque !== undefined) v += `, opaque=${quote(ch.opaque)}`;
  return v;
}

export function parseAuthorization(value: string): DigestCredentials {
  const { scheme, params } = parseAuthParams(value);
  if (scheme.toLowerCase() !== 'digest') throw new DigestError('DIGEST_SCHEME', `unsupported authorization scheme '${scheme}'`);
  const need = ['username', 'realm', 'nonce', 'uri', 'response'];
  for (const n of need) if (!params.has(n)) throw new DigestError('DIGEST_PARSE', `digest credentials without '${n}'`);
  const algorithm = algorithmOf(params.get('algorithm'));
  if (!algorithm) throw new DigestError('DIGEST_ALGORITHM', `unsupported digest algorithm '${params.get('algorithm')}'`);
  return {
    username: params.get('username')!, realm: params.get('realm')!, nonce: params.get('nonce')!, uri: params.get('uri')!,
    response: params.get('response')!.toLowerCase(), algorithm, cnonce: params.get('cnonce'), nc: params.get('nc'),
    qop: params.get('qop'), opaque: params.get('opaque'),
  };
}

/** Server side: is the response right for this password? (Nonce freshness is NonceStore's job.) */
export function verifyAuthorization(c: DigestCredentials, method: string, password: string, body?: Buffer): boolean {
  if ((c.qop === 'auth' || c.qop === 'auth-int') && (!c.nc || !c.cnonce)) return false;
  const expected = computeResponse({
    algorithm: c.algorithm, username: c.username, realm: c.realm, password, method, uri: c.uri,
    nonce: c.nonce, cnonce: c.cnonce, nc: c.nc, qop: c.qop, body,
  });
  return expected === c.response;
}

export function buildChallenge(opts: { realm: string; nonce: string; algorithm?: DigestAlgorithm; qop?: string; stale?: boolean; opaque?: string }): string {
  let v = `Digest realm=${quote(opts.realm)}, nonce=${quote(opts.nonce)}, algorithm=${opts.algorithm ?? 'MD5'}`;
  if (opts.qop !== '') v += `, qop="${opts.qop ?? 'auth'}"`;
  if (opts.opaque) v += `, opaque=${quote(opts.opaque)}`;
  if (opts.stale) v += ', stale=true';
  return v;
}
