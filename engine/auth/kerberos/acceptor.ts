// The server side of a Kerberos login (RFC 4120 §3.2.3): an AP-REQ, wrapped
// in a GSS-API initial context token, checked against the service's keytab:
// the ticket decrypted with the service key, its end time, the authenticator
// decrypted with the ticket's session key, its client name against the
// ticket's, its time within the allowed skew (5 minutes, §1.2), and a replay
// cache over that window (§3.2.3: "the server MUST utilize a replay cache").

import { KerberosError } from './kdc-client.js';
import { KerberosCryptoError, type Key } from './crypto.js';
import { unwrapInitialToken } from './gss.js';
import type { KeytabEntry } from './keytab.js';
import { decryptPart, principalText, readApReq, readAuthenticator, readEncTicketPart, Usage } from './messages.js';

export interface AcceptedContext {
  /** user@REALM */
  client: string;
  /** The user part alone, as SIP accounts are named. */
  user: string;
  sessionKey: Key;
}

export class KerberosAcceptor {
  private readonly replay = new Map<string, number>();

  constructor(private readonly keys: KeytabEntry[], private readonly maxSkewMs = 300_000, private readonly maxReplayEntries = 200_000) {}

  accept(gssToken: Buffer, now: number): AcceptedContext {
    const ap = readApReq(unwrapInitialToken(gssToken));
    const enc = ap.ticket.encPart;
    const entry = this.keys.find((k) => k.key.enctype === enc.etype && (enc.kvno === undefined || k.kvno === enc.kvno))
      ?? this.keys.find((k) => k.key.enctype === enc.etype);
    const service = principalText(ap.ticket.sname, ap.ticket.realm);
    if (!entry) throw new KerberosError('KRB_NO_KEY', `no key in the keytab for ${service} (enctype ${enc.etype}, kvno ${enc.kvno ?? '?'})`);
    let ticket;
    try {
      ticket = readEncTicketPart(decryptPart(entry.key, Usage.TICKET, enc));
    } catch (e) {
      if (e instanceof KerberosCryptoError) throw new KerberosError('KRB_BAD_TICKET', `the ticket for ${service} does not decrypt with the keytab's key`);
      throw e;
    }
    if (ticket.endtime < now) throw new KerberosError('KRB_TICKET_EXPIRED', `the ticket of ${principalText(ticket.cname, ticket.crealm)} expired at ${new Date(ticket.endtime).toISOString()}`);
    let auth;
    try {
      auth = readAuthenticator(decryptPart(ticket.key, Usage.AP_REQ_AUTH, ap.authenticator));
    } catch (e) {
      if (e instanceof KerberosCryptoError) throw new KerberosError('KRB_BAD_AUTHENTICATOR', 'the authenticator does not decrypt with the ticket\'s session key');
      throw e;
    }
    const client = principalText(ticket.cname, ticket.crealm);
    if (principalText(auth.cname, auth.crealm) !== client) throw new KerberosError('KRB_BAD_AUTHENTICATOR', `the authenticator names ${principalText(auth.cname, auth.crealm)}, the ticket ${client}`);
    if (Math.abs(auth.ctime - now) > this.maxSkewMs) throw new KerberosError('KRB_CLOCK_SKEW', `the authenticator of ${client} is ${Math.round((auth.ctime - now) / 1000)} s off this clock (allowed ${this.maxSkewMs / 1000} s)`);
    const key = `${client} ${auth.ctime} ${auth.cusec}`;
    if (this.replay.has(key)) throw new KerberosError('KRB_REPLAY', `an authenticator of ${client} seen before (replay)`);
    this.remember(key, now);
    return { client, user: ticket.cname.names.join('/'), sessionKey: ticket.key };
  }

  private remember(key: string, now: number): void {
    // Entries older than the skew window can no longer be replayed: the skew check refuses them.
    if (this.replay.size >= this.maxReplayEntries) {
      for (const [k, at] of this.replay) {
        if (now - at <= this.maxSkewMs) break;
        this.replay.delete(k);
      }
      if (this.replay.size >= this.maxReplayEntries) this.replay.delete(this.replay.keys().next().value!);
    }
    this.replay.set(key, now);
  }
}
