// NTLMv2 with session security as [MS-NLMP] defines it: the three messages
// (NEGOTIATE §2.2.1.1, CHALLENGE §2.2.1.2, AUTHENTICATE §2.2.1.3), the NTLMv2
// response (§3.3.2), the session keys (KXKEY, SIGNKEY, SEALKEY §3.4.5) and the
// message signature with extended session security (MAC §3.4.4.2), in the
// connectionless mode MS-SIPAE uses (the server's CHALLENGE comes first, the
// sequence number travels in the SIP header, the RC4 state is reset per
// message, §3.4). Both sides: sipstorm's UA authenticates, `sipstorm serve`
// verifies. MD4 is the js-md4 package (Node's OpenSSL 3 refuses it).

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import md4 from 'js-md4';
import { SipstormError } from '../../errors.js';
import { Rc4, rc4 } from './rc4.js';

export class NtlmError extends SipstormError {}

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');

/** Negotiate flags (§2.2.2.5). */
export const Flag = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  DATAGRAM: 0x00000040,
  NTLM: 0x00000200,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  N128: 0x20000000,
  KEY_EXCH: 0x40000000,
  N56: 0x80000000,
} as const;

/** What sipstorm offers in connectionless mode: NTLMv2 with signing, key exchange, 128-bit keys. */
export const DATAGRAM_FLAGS = (Flag.UNICODE | Flag.SIGN | Flag.DATAGRAM | Flag.NTLM | Flag.ALWAYS_SIGN |
  Flag.TARGET_TYPE_SERVER | Flag.EXTENDED_SESSIONSECURITY | Flag.TARGET_INFO | Flag.N128 | Flag.KEY_EXCH | Flag.N56) >>> 0;

/** AV_PAIR ids (§2.2.2.1) that sipstorm writes or reads. */
export const AvId = { EOL: 0, NB_COMPUTER: 1, NB_DOMAIN: 2, DNS_COMPUTER: 3, DNS_DOMAIN: 4, TIMESTAMP: 7 } as const;

/** The VERSION structure (§2.2.2.10) sipstorm writes: 6.1 build 7600, NTLM revision 15, as in the spec's examples. */
const VERSION = Buffer.from('0601b01d0000000f', 'hex');

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  /** The raw AV_PAIR list, copied into the NTLMv2 response unchanged. */
  targetInfo: Buffer;
  version?: Buffer;
}

export interface AuthenticateMessage {
  flags: number;
  lmResponse: Buffer;
  ntResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  version?: Buffer;
}

const utf16 = (s: string): Buffer => Buffer.from(s, 'utf16le');
const hmacMd5 = (key: Uint8Array, ...parts: Uint8Array[]): Buffer => {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
};
const md5 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** NT hash: MD4 of the UTF-16LE password. */
export function ntHash(password: string): Buffer {
  return Buffer.from(md4.arrayBuffer(utf16(password)));
}

/** §3.3.2 NTOWFv2: HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(Uppercase(User) + UserDom)). The domain keeps its case. */
export function ntowfv2(user: string, domain: string, password: string): Buffer {
  return hmacMd5(ntHash(password), utf16(user.toUpperCase() + domain));
}

// --- messages ---------------------------------------------------------------

function field(buf: Buffer, at: number, what: string): Buffer {
  if (buf.length < at + 8) throw new NtlmError('NTLM_MALFORMED', `NTLM message too short for its ${what} field`);
  const len = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (offset + len > buf.length) throw new NtlmError('NTLM_MALFORMED', `NTLM ${what} field points past the message (${offset}+${len} > ${buf.length})`);
  return buf.subarray(offset, offset + len);
}

function header(buf: Buffer, type: number): void {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(SIGNATURE)) throw new NtlmError('NTLM_MALFORMED', 'not an NTLM message (no NTLMSSP signature)');
  const got = buf.readUInt32LE(8);
  if (got !== type) throw new NtlmError('NTLM_MALFORMED', `expected NTLM message type ${type}, got ${got}`);
}

/** Lays out a message: a fixed part with (len, maxlen, offset) fields, then the payloads in the order given. */
function layout(fixed: Buffer, fields: Array<[at: number, data: Buffer]>): Buffer {
  let offset = fixed.length;
  for (const [at, data] of fields) {
    fixed.writeUInt16LE(data.length, at);
    fixed.writeUInt16LE(data.length, at + 2);
    fixed.writeUInt32LE(offset, at + 4);
    offset += data.length;
  }
  return Buffer.concat([fixed, ...fields.map(([, data]) => data)]);
}

export function buildNegotiate(flags: number): Buffer {
  const fixed = Buffer.alloc(40);
  SIGNATURE.copy(fixed, 0);
  fixed.writeUInt32LE(1, 8);
  fixed.writeUInt32LE(flags >>> 0, 12);
  fixed.writeUInt32LE(40, 20); fixed.writeUInt32LE(40, 28);
  VERSION.copy(fixed, 32);
  return fixed;
}

export function buildChallenge(c: ChallengeMessage): Buffer {
  const fixed = Buffer.alloc(56);
  SIGNATURE.copy(fixed, 0);
  fixed.writeUInt32LE(2, 8);
  fixed.writeUInt32LE(c.flags >>> 0, 20);
  c.serverChallenge.copy(fixed, 24);
  (c.version ?? VERSION).copy(fixed, 48);
  return layout(fixed, [[12, utf16(c.targetName)], [40, c.targetInfo]]);
}

export function parseChallenge(buf: Buffer): ChallengeMessage {
  header(buf, 2);
  if (buf.length < 48) throw new NtlmError('NTLM_MALFORMED', 'NTLM CHALLENGE message too short');
  const flags = buf.readUInt32LE(20);
  return {
    flags,
    serverChallenge: Buffer.from(buf.subarray(24, 32)),
    targetName: field(buf, 12, 'target name').toString(flags & Flag.UNICODE ? 'utf16le' : 'latin1'),
    targetInfo: Buffer.from(field(buf, 40, 'target info')),
    version: buf.length >= 56 ? Buffer.from(buf.subarray(48, 56)) : undefined,
  };
}

export function buildAuthenticate(a: AuthenticateMessage): Buffer {
  const fixed = Buffer.alloc(72);
  SIGNATURE.copy(fixed, 0);
  fixed.writeUInt32LE(3, 8);
  fixed.writeUInt32LE(a.flags >>> 0, 60);
  (a.version ?? VERSION).copy(fixed, 64);
  // Payload order as in the spec's own example (§4.2.4.3): domain, user, workstation, LM, NT, session key.
  return layout(fixed, [
    [28, utf16(a.domain)], [36, utf16(a.user)], [44, utf16(a.workstation)],
    [12, a.lmResponse], [20, a.ntResponse], [52, a.encryptedRandomSessionKey],
  ]);
}

export function parseAuthenticate(buf: Buffer): AuthenticateMessage {
  header(buf, 3);
  if (buf.length < 64) throw new NtlmError('NTLM_MALFORMED', 'NTLM AUTHENTICATE message too short');
  const flags = buf.readUInt32LE(60);
  const text = (b: Buffer): string => b.toString(flags & Flag.UNICODE ? 'utf16le' : 'latin1');
  return {
    flags,
    lmResponse: Buffer.from(field(buf, 12, 'LM response')),
    ntResponse: Buffer.from(field(buf, 20, 'NT response')),
    domain: text(field(buf, 28, 'domain')),
    user: text(field(buf, 36, 'user')),
    workstation: text(field(buf, 44, 'workstation')),
    encryptedRandomSessionKey: Buffer.from(field(buf, 52, 'session key')),
    version: buf.length >= 72 ? Buffer.from(buf.subarray(64, 72)) : undefined,
  };
}

/** An AV_PAIR list (§2.2.2.1) ending in MsvAvEOL. */
export function buildTargetInfo(pairs: Array<[id: number, value: Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of [...pairs, [AvId.EOL, Buffer.alloc(0)] as [number, Buffer]]) {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(id, 0); head.writeUInt16LE(value.length, 2);
    parts.push(head, value);
  }
  return Buffer.concat(parts);
}

// --- NTLMv2 response and keys (§3.3.2, §3.4.5) ------------------------------

export interface Ntlmv2Inputs {
  user: string;
  domain: string;
  password: string;
  serverChallenge: Buffer;
  clientChallenge: Buffer;
  /** FILETIME, 100 ns since 1601, little-endian 8 bytes. */
  time: Buffer;
  targetInfo: Buffer;
}

export interface Ntlmv2Response {
  ntResponse: Buffer;
  lmResponse: Buffer;
  sessionBaseKey: Buffer;
}

export function ntlmv2Response(i: Ntlmv2Inputs): Ntlmv2Response {
  const key = ntowfv2(i.user, i.domain, i.password);
  return ntlmv2ResponseWithKey(key, i);
}

function ntlmv2ResponseWithKey(key: Buffer, i: Omit<Ntlmv2Inputs, 'user' | 'domain' | 'password'>): Ntlmv2Response {
  const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), i.time, i.clientChallenge, Buffer.alloc(4), i.targetInfo, Buffer.alloc(4)]);
  const ntProof = hmacMd5(key, i.serverChallenge, temp);
  return {
    ntResponse: Buffer.concat([ntProof, temp]),
    lmResponse: Buffer.concat([hmacMd5(key, i.serverChallenge, i.clientChallenge), i.clientChallenge]),
    sessionBaseKey: hmacMd5(key, ntProof),
  };
}

/** Windows FILETIME of a Unix millisecond time. */
export function fileTime(unixMs: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE((BigInt(Math.round(unixMs)) + 11644473600000n) * 10000n);
  return out;
}

const CLIENT_SIGN = Buffer.from('session key to client-to-server signing key magic constant\0', 'latin1');
const SERVER_SIGN = Buffer.from('session key to server-to-client signing key magic constant\0', 'latin1');
const CLIENT_SEAL = Buffer.from('session key to client-to-server sealing key magic constant\0', 'latin1');
const SERVER_SEAL = Buffer.from('session key to server-to-client sealing key magic constant\0', 'latin1');

/** SIGNKEY and SEALKEY (§3.4.5.2-3) with extended session security and 128-bit keys. */
export function sessionKeys(exportedSessionKey: Buffer): { clientSign: Buffer; serverSign: Buffer; clientSeal: Buffer; serverSeal: Buffer } {
  return {
    clientSign: md5(exportedSessionKey, CLIENT_SIGN),
    serverSign: md5(exportedSessionKey, SERVER_SIGN),
    clientSeal: md5(exportedSessionKey, CLIENT_SEAL),
    serverSeal: md5(exportedSessionKey, SERVER_SEAL),
  };
}

/**
 * MAC with extended session security (§3.4.4.2): Version 1, the first 8 bytes of
 * HMAC_MD5(SigningKey, SeqNum + Message), RC4-encrypted when keys were exchanged,
 * then SeqNum. `seal` is the RC4 state to encrypt the checksum with: in
 * connectionless mode a fresh one per message (see `datagramSealState`).
 */
export function mac(signingKey: Buffer, seal: Rc4 | undefined, seqNum: number, message: Buffer): Buffer {
  const seq = Buffer.alloc(4);
  seq.writeUInt32LE(seqNum >>> 0);
  let checksum = hmacMd5(signingKey, seq, message).subarray(0, 8);
  if (seal) checksum = seal.update(checksum);
  return Buffer.concat([Buffer.from([1, 0, 0, 0]), checksum, seq]);
}

/** §3.4: in connectionless mode the sealing key is reset per message: SealingKey' = MD5(SealingKey + SeqNum). */
export function datagramSealState(sealingKey: Buffer, seqNum: number): Rc4 {
  const seq = Buffer.alloc(4);
  seq.writeUInt32LE(seqNum >>> 0);
  return new Rc4(md5(sealingKey, seq));
}

// --- the two sides of one connectionless exchange --------------------------

/** A signing context after a completed exchange: signs what this side sends, verifies what it receives. */
export class NtlmSession {
  private readonly sendSign: Buffer;
  private readonly sendSeal: Buffer;
  private readonly recvSign: Buffer;
  private readonly recvSeal: Buffer;

  constructor(exportedSessionKey: Buffer, side: 'client' | 'server') {
    const k = sessionKeys(exportedSessionKey);
    if (side === 'client') {
      this.sendSign = k.clientSign; this.sendSeal = k.clientSeal; this.recvSign = k.serverSign; this.recvSeal = k.serverSeal;
    } else {
      this.sendSign = k.serverSign; this.sendSeal = k.serverSeal; this.recvSign = k.clientSign; this.recvSeal = k.clientSeal;
    }
  }

  sign(seqNum: number, message: Buffer): Buffer {
    return mac(this.sendSign, datagramSealState(this.sendSeal, seqNum), seqNum, message);
  }

  verify(seqNum: number, message: Buffer, signature: Buffer): boolean {
    const expected = mac(this.recvSign, datagramSealState(this.recvSeal, seqNum), seqNum, message);
    return signature.length === expected.length && timingSafeEqual(signature, expected);
  }
}

export interface ClientAuthenticate {
  message: Buffer;
  session: NtlmSession;
}

/** Client: answers a CHALLENGE with an AUTHENTICATE (NTLMv2, a random exported session key sent under RC4K). */
export function respondToChallenge(challenge: ChallengeMessage, user: string, domain: string, password: string,
  workstation: string, now: number, random: (n: number) => Buffer = randomBytes): ClientAuthenticate {
  const flags = (challenge.flags & DATAGRAM_FLAGS) >>> 0;
  if (!(flags & Flag.EXTENDED_SESSIONSECURITY) || !(flags & Flag.KEY_EXCH)) {
    throw new NtlmError('NTLM_UNSUPPORTED', 'the server\'s NTLM CHALLENGE offers no extended session security with key exchange (NTLMv2 with session security is required)');
  }
  const r = ntlmv2Response({
    user, domain, password, serverChallenge: challenge.serverChallenge, clientChallenge: random(8),
    time: fileTime(now), targetInfo: challenge.targetInfo,
  });
  const exported = random(16);
  const message = buildAuthenticate({
    flags, lmResponse: r.lmResponse, ntResponse: r.ntResponse, domain, user, workstation,
    encryptedRandomSessionKey: rc4(r.sessionBaseKey, exported),
  });
  return { message, session: new NtlmSession(exported, 'client') };
}

export interface ServerVerdict {
  user: string;
  domain: string;
  session: NtlmSession;
}

/**
 * Server: checks an AUTHENTICATE against the CHALLENGE it sent and the user's
 * password (§3.2.5.1.2): the NTProofStr recomputed from the response's own
 * blob, then the session key unwrapped. Throws NTLM_BAD_RESPONSE on a wrong password.
 */
export function verifyAuthenticate(auth: AuthenticateMessage, serverChallenge: Buffer, passwordOf: (user: string) => string | undefined): ServerVerdict {
  const password = passwordOf(auth.user);
  if (password === undefined) throw new NtlmError('NTLM_UNKNOWN_USER', `NTLM user ${JSON.stringify(auth.user)} is not known`);
  if (auth.ntResponse.length < 16 + 28) throw new NtlmError('NTLM_MALFORMED', 'NTLM AUTHENTICATE carries no NTLMv2 response (NTLMv1 is refused)');
  const key = ntowfv2(auth.user, auth.domain, password);
  const proof = auth.ntResponse.subarray(0, 16);
  const temp = auth.ntResponse.subarray(16);
  const expected = hmacMd5(key, serverChallenge, temp);
  if (!timingSafeEqual(proof, expected)) throw new NtlmError('NTLM_BAD_RESPONSE', `NTLM response for ${JSON.stringify(auth.user)} does not match (wrong password?)`);
  const sessionBaseKey = hmacMd5(key, proof);
  const exported = auth.flags & Flag.KEY_EXCH && auth.encryptedRandomSessionKey.length === 16
    ? rc4(sessionBaseKey, auth.encryptedRandomSessionKey)
    : sessionBaseKey;
  return { user: auth.user, domain: auth.domain, session: new NtlmSession(exported, 'server') };
}
