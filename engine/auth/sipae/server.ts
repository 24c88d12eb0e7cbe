// The server side of [MS-SIPAE] (§3.3) for `sipstorm serve --auth ntlm|kerberos`:
// challenges with the schemes it offers, runs the NTLM round (CHALLENGE with a
// new opaque, then the AUTHENTICATE checked against the account's password)
// or accepts a Kerberos AP-REQ with its keytab, keeps the security
// associations by opaque, verifies the signature (crand, cnum, response) of
// every later request, and signs its responses (rspauth, srand, snum).
// Pending challenges and associations are capped, oldest dropped first, so
// a peer that opens logins without end cannot grow them without bound.

import { randomBytes } from 'node:crypto';
import type { SipMessage } from '../../codec/index.js';
import type { KerberosAcceptor } from '../kerberos/acceptor.js';
import {
  buildChallenge as buildNtlmChallenge, buildTargetInfo, AvId, DATAGRAM_FLAGS, parseAuthenticate, verifyAuthenticate,
} from '../ntlm/ntlm.js';
import { SecurityAssociation } from './security-association.js';
import { formatSipae, sipaeValues, type SipaeScheme } from './signature.js';

export interface SipaeServerOptions {
  /** The realm in the challenges ("SIP Communications Service" on Microsoft's servers). */
  realm: string;
  /** NTLM's targetname (the server's host name) and the accounts' passwords; absent: NTLM not offered. */
  ntlm?: { targetname: string; passwordOf: (user: string) => string | undefined };
  /** Kerberos' targetname (the service principal, "sip/host") and the acceptor with its keytab; absent: not offered. */
  kerberos?: { targetname: string; acceptor: KerberosAcceptor };
  now: () => number;
  maxAssociations?: number;
  /** Digest is offered too: a request with a Digest Authorization, or none, is the digest code's (`ownsRequest`). */
  offerDigest?: boolean;
}

export type SipaeDecision =
  /** Send 401/407 with these WWW-Authenticate/Proxy-Authenticate values. */
  | { kind: 'challenge'; values: string[] }
  /** The request is authenticated as `user`; sign the responses with `sa`. */
  | { kind: 'ok'; user: string; sa: SecurityAssociation }
  /** Refuse with 403 and this reason (a wrong password, a bad signature, a replay). */
  | { kind: 'forbidden'; reason: string; code: string };

export class SipaeServer {
  private readonly pendingNtlm = new Map<string, Buffer>();
  private readonly associations = new Map<string, SecurityAssociation>();
  private readonly cap: number;
  /** Counts by outcome, for the server's statistics. */
  readonly counts = { challenges: 0, logins: 0, signedRequests: 0, refused: 0 };

  constructor(private readonly o: SipaeServerOptions) {
    this.cap = o.maxAssociations ?? 100_000;
  }

  /** Whether this request is for MS-SIPAE: it carries one of our schemes' credentials, or digest is not offered. */
  ownsRequest(authorization: string[]): boolean {
    return !this.o.offerDigest || sipaeValues(authorization).length > 0;
  }

  /** The NTLM/Kerberos challenges, to add beside digest's. */
  challenges(): string[] {
    const out: string[] = [];
    if (this.o.ntlm) out.push(formatSipae('NTLM', [['realm', this.o.realm], ['targetname', this.o.ntlm.targetname], ['version', 3]]));
    if (this.o.kerberos) out.push(formatSipae('Kerberos', [['realm', this.o.realm], ['targetname', this.o.kerberos.targetname], ['version', 3]]));
    return out;
  }

  private refuse(code: string, reason: string): SipaeDecision {
    this.counts.refused++;
    return { kind: 'forbidden', code, reason };
  }

  check(req: SipMessage, authorization: string[]): SipaeDecision {
    const offered = new Set<SipaeScheme>([...(this.o.ntlm ? ['NTLM' as const] : []), ...(this.o.kerberos ? ['Kerberos' as const] : [])]);
    const cred = sipaeValues(authorization).find((v) => offered.has(v.scheme) && (v.params.get('realm') ?? '') === this.o.realm);
    if (!cred) {
      this.counts.challenges++;
      return { kind: 'challenge', values: this.challenges() };
    }
    const p = cred.params;
    const opaque = p.get('opaque');
    const response = p.get('response');
    if (response !== undefined && opaque !== undefined) {
      const sa = this.associations.get(opaque);
      if (!sa || sa.scheme !== cred.scheme) {
        this.counts.challenges++;
        return { kind: 'challenge', values: this.challenges() }; // unknown association: log in again
      }
      const verdict = sa.verify(req, p.get('crand') ?? '', Number(p.get('cnum')), response);
      if (verdict === 'bad-signature') return this.refuse('SIPAE_BAD_SIGNATURE', `Forbidden (bad ${sa.scheme} signature)`);
      if (verdict === 'replay') return this.refuse('SIPAE_REPLAY', `Forbidden (${sa.scheme} cnum replayed)`);
      this.counts.signedRequests++;
      return { kind: 'ok', user: sa.user, sa };
    }
    const data = p.get('gssapi-data') ?? '';
    try {
      if (cred.scheme === 'NTLM') return this.ntlm(data, opaque);
      return this.kerberos(data);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return this.refuse(err.code ?? 'SIPAE_LOGIN_FAILED', `Forbidden (${cred.scheme} login failed: ${err.message ?? String(e)})`);
    }
  }

  private ntlm(data: string, opaque: string | undefined): SipaeDecision {
    const ntlm = this.o.ntlm!;
    if (!data) {
      const id = randomBytes(4).toString('hex').toUpperCase();
      const serverChallenge = randomBytes(8);
      this.bounded(this.pendingNtlm, id, serverChallenge);
      const challenge = buildNtlmChallenge({
        flags: DATAGRAM_FLAGS, serverChallenge, targetName: ntlm.targetname,
        targetInfo: buildTargetInfo([[AvId.NB_COMPUTER, Buffer.from(ntlm.targetname.split('.')[0]!.toUpperCase(), 'utf16le')]]),
      });
      this.counts.challenges++;
      return { kind: 'challenge', values: [formatSipae('NTLM', [['opaque', id], ['gssapi-data', challenge.toString('base64')],
        ['targetname', ntlm.targetname], ['realm', this.o.realm], ['version', 3]])] };
    }
    const serverChallenge = opaque ? this.pendingNtlm.get(opaque) : undefined;
    if (!serverChallenge) {
      this.counts.challenges++;
      return { kind: 'challenge', values: this.challenges() }; // no CHALLENGE of ours: start over
    }
    this.pendingNtlm.delete(opaque!);
    const verdict = verifyAuthenticate(parseAuthenticate(Buffer.from(data, 'base64')), serverChallenge, ntlm.passwordOf);
    const sa = new SecurityAssociation('NTLM', this.o.realm, ntlm.targetname, opaque!, { kind: 'ntlm', session: verdict.session }, 'server', verdict.user);
    this.bounded(this.associations, opaque!, sa);
    this.counts.logins++;
    return { kind: 'ok', user: verdict.user, sa };
  }

  private kerberos(data: string): SipaeDecision {
    const k = this.o.kerberos!;
    const ctx = k.acceptor.accept(Buffer.from(data, 'base64'), this.o.now());
    const opaque = randomBytes(4).toString('hex').toUpperCase();
    const sa = new SecurityAssociation('Kerberos', this.o.realm, k.targetname, opaque, { kind: 'kerberos', key: ctx.sessionKey }, 'server', ctx.user);
    this.bounded(this.associations, opaque, sa);
    this.counts.logins++;
    return { kind: 'ok', user: ctx.user, sa };
  }

  /** The Authentication-Info (or Proxy-Authentication-Info) value signing a response of an association. */
  signResponse(sa: SecurityAssociation, res: SipMessage): string {
    const { num, signature } = sa.sign(res);
    return formatSipae(sa.scheme, [['rspauth', signature], ['srand', sa.rand], ['snum', String(num)], ['opaque', sa.opaque],
      ['qop', 'auth'], ['targetname', sa.targetname], ['realm', sa.realm]]);
  }

  private bounded<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= this.cap) map.delete(map.keys().next().value!);
    map.set(key, value);
  }
}
