// The client side of [MS-SIPAE] for one simulated UA (§3.2): answering a 401
// or 407 that offers NTLM or Kerberos, keeping the security association the
// login makes, signing later requests with it (crand, cnum, response) and
// checking the server's signature (rspauth, srand, snum) on responses.
//
// NTLM runs connectionless (§3.2.5.1.1): an Authorization with empty
// gssapi-data asks for the CHALLENGE, which comes in a second 401 with an
// opaque; the AUTHENTICATE answers it. Kerberos is one round: the UA gets a
// TGT and a ticket for the challenge's targetname from the KDC (cached per UA)
// and sends the AP-REQ as a GSS-API token (§3.2.5.1.2).

import type { SipMessage } from '../../codec/index.js';
import { SipstormError } from '../../errors.js';

import { requestServiceTicket, requestTgt, type Credential, type KdcAddress } from '../kerberos/kdc-client.js';
import { buildApReq, Usage } from '../kerberos/messages.js';
import type { Key } from '../kerberos/crypto.js';
import { wrapInitialToken } from '../kerberos/gss.js';
import { parseChallenge as parseNtlmChallenge, respondToChallenge } from '../ntlm/ntlm.js';
import { SecurityAssociation } from './security-association.js';
import { formatSipae, sipaeValues, type SipaeScheme } from './signature.js';

export class SipaeError extends SipstormError {}

export interface SipaeLogin {
  scheme: 'ntlm' | 'kerberos';
  user: string;
  password: string;
  /** NTLM: the Windows domain the account is in (may be empty). */
  domain: string;
  workstation: string;
  /** Kerberos: the KDC and the realm of the user's principal. */
  kdc?: KdcAddress;
  kerberosRealm?: string;
  /** Kerberos: the user's keys from a keytab, instead of the password. */
  kerberosKeys?: Key[];
  /** How long one KDC exchange may take (default 10 s, resends included). */
  kdcTimeoutMs?: number;
  now: () => number;
}

export class SipaeClient {
  private sa: SecurityAssociation | undefined;
  /** A login answered but not yet confirmed by the server's signed final response. */
  private pending: SecurityAssociation | undefined;
  private tgt: Credential | undefined;
  private readonly tickets = new Map<string, Credential>();

  constructor(private readonly login: SipaeLogin) {}

  get established(): boolean {
    return this.sa !== undefined;
  }

  /** Whether a 401/407's challenges include the scheme this UA logs in with. */
  offered(values: string[]): boolean {
    return sipaeValues(values).some((v) => v.scheme === this.wanted);
  }

  private get wanted(): SipaeScheme {
    return this.login.scheme === 'ntlm' ? 'NTLM' : 'Kerberos';
  }

  /**
   * The Authorization (or Proxy-Authorization) value answering a challenge, or
   * a promise of it when tickets must come from the KDC first. Throws
   * SipaeError (or a KerberosError/NtlmError) with a stable code on what cannot be answered.
   */
  answer(values: string[]): string | Promise<string> {
    const ch = sipaeValues(values).find((v) => v.scheme === this.wanted);
    if (!ch) throw new SipaeError('SIPAE_NOT_OFFERED', `the server offers no ${this.wanted} challenge`);
    const realm = ch.params.get('realm') ?? '';
    const targetname = ch.params.get('targetname') ?? '';
    this.sa = undefined; // a challenge means the server holds no association for us any more
    if (this.wanted === 'NTLM') {
      const data = ch.params.get('gssapi-data');
      if (!data) return formatSipae('NTLM', [['qop', 'auth'], ['realm', realm], ['targetname', targetname], ['gssapi-data', ''], ['version', 3]]);
      const opaque = ch.params.get('opaque') ?? '';
      const { message, session } = respondToChallenge(parseNtlmChallenge(Buffer.from(data, 'base64')), this.login.user, this.login.domain,
        this.login.password, this.login.workstation, this.login.now());
      this.pending = new SecurityAssociation('NTLM', realm, targetname, opaque, { kind: 'ntlm', session }, 'client', this.login.user);
      return formatSipae('NTLM', [['qop', 'auth'], ['opaque', opaque], ['realm', realm], ['targetname', targetname],
        ['gssapi-data', message.toString('base64')], ['version', 3]]);
    }
    return this.kerberosAnswer(realm, targetname);
  }

  private async kerberosAnswer(realm: string, targetname: string): Promise<string> {
    const { kdc, kerberosRealm } = this.login;
    if (!kdc || !kerberosRealm) throw new SipaeError('SIPAE_NO_KDC', 'Kerberos login needs --kdc HOST:PORT and a Kerberos realm (auth.realm in the scenario or --kerberos-realm)');
    const now = this.login.now;
    if (!this.tgt || this.tgt.endtime <= now() + 60_000) {
      this.tgt = await requestTgt({ kdc, realm: kerberosRealm, user: this.login.user, password: this.login.password, keys: this.login.kerberosKeys, now, timeoutMs: this.login.kdcTimeoutMs });
      this.tickets.clear();
    }
    let ticket = this.tickets.get(targetname);
    if (!ticket || ticket.endtime <= now() + 60_000) {
      ticket = await requestServiceTicket(kdc, this.tgt, targetname, now, this.login.kdcTimeoutMs);
      this.tickets.set(targetname, ticket);
    }
    const apReq = buildApReq(ticket.ticket, ticket.sessionKey, { crealm: ticket.realm, cname: ticket.client, now: now() }, Usage.AP_REQ_AUTH);
    this.pending = new SecurityAssociation('Kerberos', realm, targetname, '', { kind: 'kerberos', key: ticket.sessionKey }, 'client', this.login.user);
    return formatSipae('Kerberos', [['qop', 'auth'], ['realm', realm], ['targetname', targetname],
      ['gssapi-data', wrapInitialToken(apReq).toString('base64')], ['version', 3]]);
  }

  /**
   * Checks the server's signature on a final response (Authentication-Info or
   * Proxy-Authentication-Info values). Returns why it is refused, or undefined
   * when it verifies or the response carries none and none was owed.
   */
  checkResponse(res: SipMessage, infoValues: string[]): string | undefined {
    const info = sipaeValues(infoValues).find((v) => v.scheme === this.wanted);
    const sa = this.pending ?? this.sa;
    if (!info) return this.pending && res.status < 300 ? `the server's ${res.status} to the ${this.wanted} login carries no signed Authentication-Info` : undefined;
    if (!sa) return `a ${this.wanted} Authentication-Info with no security association`;
    if ((info.params.get('realm') ?? '') !== sa.realm || (info.params.get('targetname') ?? '') !== sa.targetname) {
      return `the ${this.wanted} Authentication-Info names another realm or target (${info.params.get('realm')} / ${info.params.get('targetname')})`;
    }
    const snum = Number(info.params.get('snum'));
    const verdict = sa.verify(res, info.params.get('srand') ?? '', snum, info.params.get('rspauth') ?? '', true);
    if (verdict !== 'ok') return `the server's ${this.wanted} signature (rspauth) on its ${res.status} does not verify`;
    if (this.pending && res.status < 300) {
      this.pending.opaque = info.params.get('opaque') ?? this.pending.opaque;
      this.sa = this.pending;
      this.pending = undefined;
    }
    return undefined;
  }

  /** The signed Authorization for a request inside the association, or undefined before a login. */
  signRequest(req: SipMessage): string | undefined {
    const sa = this.sa;
    if (!sa) return undefined;
    const { num, signature } = sa.sign(req);
    return formatSipae(sa.scheme, [['qop', 'auth'], ['opaque', sa.opaque], ['realm', sa.realm], ['targetname', sa.targetname],
      ['crand', sa.rand], ['cnum', String(num)], ['response', signature]]);
  }
}

