// A security association of [MS-SIPAE] (§3.1.1): what one side keeps after a
// completed NTLM or Kerberos login to sign what it sends and verify what it
// receives: the protocol, realm, target name, opaque (the server's name for
// the SA), its own random salt and sequence number, and the keys, as NTLM's
// session (MS-NLMP MAC) or Kerberos' session key (RFC 4121 MIC tokens).

import { randomBytes } from 'node:crypto';
import type { SipMessage } from '../../codec/index.js';
import { getMic, verifyMic } from '../kerberos/gss.js';
import type { Key } from '../kerberos/crypto.js';
import type { NtlmSession } from '../ntlm/ntlm.js';
import { signatureBuffer, type SipaeScheme } from './signature.js';

export type SaKeys = { kind: 'ntlm'; session: NtlmSession } | { kind: 'kerberos'; key: Key };

export class SecurityAssociation {
  /** This side's salt: crand on the client, srand on the server (8 hex digits, as in the spec's examples). */
  readonly rand = randomBytes(4).toString('hex');
  /** The last sequence number this side used (cnum/snum start at 1). */
  private num = 0;
  /** The highest sequence number received from the other side, for replay detection. */
  private received = 0;

  constructor(
    readonly scheme: SipaeScheme, readonly realm: string, readonly targetname: string, public opaque: string,
    private readonly keys: SaKeys, private readonly side: 'client' | 'server', readonly user: string,
  ) {}

  /** The signature of a message this side sends, hex, with the sequence number it used. */
  sign(msg: SipMessage): { num: number; signature: string } {
    const num = ++this.num;
    const buf = signatureBuffer(msg, this.scheme, this.rand, num, this.realm, this.targetname);
    const sig = this.keys.kind === 'ntlm'
      ? this.keys.session.sign(num, buf)
      : getMic(this.keys.key, this.side === 'client' ? 'initiator' : 'acceptor', num, buf);
    return { num, signature: sig.toString('hex') };
  }

  /**
   * Checks the other side's signature over `msg` made with its salt and number.
   * A number not above the highest seen is a replay, unless `allowRepeat` (a
   * retransmitted response carries the same snum).
   */
  verify(msg: SipMessage, rand: string, num: number, signatureHex: string, allowRepeat = false): 'ok' | 'bad-signature' | 'replay' {
    if (!/^[0-9a-fA-F]+$/.test(signatureHex) || signatureHex.length % 2) return 'bad-signature';
    const sig = Buffer.from(signatureHex, 'hex');
    const buf = signatureBuffer(msg, this.scheme, rand, num, this.realm, this.targetname);
    const ok = this.keys.kind === 'ntlm'
      ? this.keys.session.verify(num, buf, sig)
      : verifyMic(this.keys.key, this.side === 'client' ? 'acceptor' : 'initiator', buf, sig).ok;
    if (!ok) return 'bad-signature';
    if (num <= this.received && !allowRepeat) return 'replay';
    if (num > this.received) this.received = num;
    return 'ok';
  }
}
