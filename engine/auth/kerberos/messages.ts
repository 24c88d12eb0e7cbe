// The Kerberos V5 messages sipstorm sends and reads (RFC 4120 §5): AS-REQ and
// TGS-REQ with their replies, AP-REQ/AP-REP with the Authenticator, the
// ticket's encrypted part (read by `sipstorm serve` with its keytab), and
// KRB-ERROR. Only the fields sipstorm needs are built; every reader names the
// field a malformed message lacks.

import {
  app, appTag, asBytes, asFlags, asInt, asString, asTime, ctx, flags32, fromDer, int, items, KerberosMessageError, ktime,
  octets, opt, req, seq, toDer, unApp, gstr, type Node,
} from './der.js';
import { checksum, checksumTypeOf, decrypt, encrypt, type Key } from './crypto.js';

export const NT_PRINCIPAL = 1;
export const NT_SRV_INST = 2;

/** Key usage numbers (RFC 4120 §7.5.1). */
export const Usage = {
  PA_ENC_TIMESTAMP: 1, TICKET: 2, AS_REP: 3, TGS_REQ_CKSUM: 6, TGS_REQ_AUTH: 7, TGS_REP: 8,
  AP_REQ_AUTH: 11, AP_REP: 12,
} as const;

/** Error codes sipstorm tells apart (RFC 4120 §7.5.9). */
export const KrbErrorCode = {
  PRINCIPAL_UNKNOWN: 6, PREAUTH_FAILED: 24, PREAUTH_REQUIRED: 25, SKEW: 37, BAD_INTEGRITY: 31, REPEAT: 34,
} as const;

export interface Principal { type: number; names: string[] }

export interface EncryptedData { etype: number; kvno?: number; cipher: Buffer }

export interface Ticket { realm: string; sname: Principal; encPart: EncryptedData; der: Buffer }

export interface KdcReply {
  crealm: string;
  cname: Principal;
  ticket: Ticket;
  encPart: EncryptedData;
  padata: PaData[];
}

export interface EncKdcRepPart { key: Key; nonce: number; endtime: number; srealm: string; sname: Principal }

export interface PaData { type: number; value: Buffer }

export interface KrbError { code: number; text?: string; stime: number; edata?: Buffer }

export const principal = (type: number, ...names: string[]): Principal => ({ type, names });
export const principalText = (p: Principal, realm?: string): string => p.names.join('/') + (realm ? `@${realm}` : '');

// --- builders ---------------------------------------------------------------

const principalNode = (p: Principal): Node => seq(ctx(0, int(p.type)), ctx(1, seq(...p.names.map(gstr))));
const encryptedNode = (e: EncryptedData): Node => seq(ctx(0, int(e.etype)), e.kvno !== undefined ? ctx(1, int(e.kvno)) : undefined, ctx(2, octets(e.cipher)));

export interface KdcRequestBody {
  options: number;
  cname?: Principal;
  realm: string;
  sname: Principal;
  till: number;
  nonce: number;
  etypes: number[];
}

function bodyNode(b: KdcRequestBody): Node {
  return seq(
    ctx(0, flags32(b.options)),
    b.cname ? ctx(1, principalNode(b.cname)) : undefined,
    ctx(2, gstr(b.realm)),
    ctx(3, principalNode(b.sname)),
    ctx(5, ktime(b.till)),
    ctx(7, int(b.nonce)),
    ctx(8, seq(...b.etypes.map(int))),
  );
}

export function encodeBody(b: KdcRequestBody): Buffer {
  return toDer(bodyNode(b));
}

function kdcRequest(msgType: 10 | 12, padata: PaData[], body: KdcRequestBody): Buffer {
  return toDer(app(msgType, seq(
    ctx(1, int(5)), ctx(2, int(msgType)),
    padata.length ? ctx(3, seq(...padata.map((p) => seq(ctx(1, int(p.type)), ctx(2, octets(p.value)))))) : undefined,
    ctx(4, bodyNode(body)),
  )));
}

export function buildAsReq(body: KdcRequestBody, padata: PaData[] = []): Buffer {
  return kdcRequest(10, padata, body);
}

export function buildTgsReq(body: KdcRequestBody, apReq: Buffer): Buffer {
  return kdcRequest(12, [{ type: 1 /* PA-TGS-REQ */, value: apReq }], body);
}

/** PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2): the current time encrypted in the user's long-term key. */
export function paEncTimestamp(key: Key, now: number): PaData {
  const ts = toDer(seq(ctx(0, ktime(now)), ctx(1, int((now % 1000) * 1000))));
  return { type: 2, value: toDer(encryptedNode({ etype: key.enctype, cipher: encrypt(key, Usage.PA_ENC_TIMESTAMP, ts) })) };
}

export interface AuthenticatorInput {
  crealm: string;
  cname: Principal;
  now: number;
  /** The checksum of a TGS-REQ body (usage 6), when this authenticator rides in one. */
  bodyChecksum?: Buffer;
  seqNumber?: number;
}

/** AP-REQ (RFC 4120 §5.5.1) for a ticket and its session key. */
export function buildApReq(ticket: Ticket, sessionKey: Key, a: AuthenticatorInput, usage: number, mutual = false): Buffer {
  const auth = toDer(app(2, seq(
    ctx(0, int(5)), ctx(1, gstr(a.crealm)), ctx(2, principalNode(a.cname)),
    a.bodyChecksum ? ctx(3, seq(ctx(0, int(checksumTypeOf(sessionKey.enctype))), ctx(1, octets(a.bodyChecksum)))) : undefined,
    ctx(4, int((a.now % 1000) * 1000)), ctx(5, ktime(a.now)),
    a.seqNumber !== undefined ? ctx(7, int(a.seqNumber)) : undefined,
  )));
  return toDer(app(14, seq(
    ctx(0, int(5)), ctx(1, int(14)), ctx(2, flags32(mutual ? 0x20000000 : 0)),
    ctx(3, fromDer(ticket.der, 'ticket')),
    ctx(4, encryptedNode({ etype: sessionKey.enctype, cipher: encrypt(sessionKey, usage, auth) })),
  )));
}

export function tgsBodyChecksum(sessionKey: Key, body: KdcRequestBody): Buffer {
  return checksum(sessionKey, Usage.TGS_REQ_CKSUM, encodeBody(body));
}

/** What `sipstorm serve` reads from a service ticket's encrypted part. */
export interface EncTicketPart { key: Key; crealm: string; cname: Principal; authtime: number; endtime: number }

// --- readers ----------------------------------------------------------------

function readPrincipal(n: Node, what: string): Principal {
  return { type: asInt(req(n, 0, what), `${what}.name-type`), names: items(req(n, 1, what), what).map((s) => asString(s, `${what}.name-string`)) };
}

function readEncrypted(n: Node, what: string): EncryptedData {
  const kvno = opt(n, 1, what);
  return { etype: asInt(req(n, 0, what), `${what}.etype`), kvno: kvno ? asInt(kvno, `${what}.kvno`) : undefined, cipher: asBytes(req(n, 2, what), `${what}.cipher`) };
}

function readKey(n: Node, what: string): Key {
  return { enctype: asInt(req(n, 0, what), `${what}.keytype`), value: asBytes(req(n, 1, what), `${what}.keyvalue`) };
}

function readTicket(n: Node): Ticket {
  const t = unApp(n, 1, 'Ticket');
  return { realm: asString(req(t, 1, 'Ticket'), 'Ticket.realm'), sname: readPrincipal(req(t, 2, 'Ticket'), 'Ticket.sname'), encPart: readEncrypted(req(t, 3, 'Ticket'), 'Ticket.enc-part'), der: toDer(n) };
}

function readPadata(n: Node | undefined, what: string): PaData[] {
  if (!n) return [];
  return items(n, what).map((p) => ({ type: asInt(req(p, 1, what), `${what}.padata-type`), value: asBytes(req(p, 2, what), `${what}.padata-value`) }));
}

/** Reads a KDC's answer: an AS-REP/TGS-REP (11/13), or a KRB-ERROR (30) returned as such. */
export function readKdcAnswer(buf: Buffer, expect: 11 | 13): KdcReply | KrbError {
  const top = fromDer(buf, 'KDC reply');
  const tag = appTag(top);
  if (tag === 30) return readKrbError(top);
  const what = expect === 11 ? 'AS-REP' : 'TGS-REP';
  const r = unApp(top, expect, what);
  return {
    padata: readPadata(opt(r, 2, what), `${what}.padata`),
    crealm: asString(req(r, 3, what), `${what}.crealm`),
    cname: readPrincipal(req(r, 4, what), `${what}.cname`),
    ticket: readTicket(req(r, 5, what)),
    encPart: readEncrypted(req(r, 6, what), `${what}.enc-part`),
  };
}

export function isKrbError(x: KdcReply | KrbError): x is KrbError {
  return (x as KrbError).code !== undefined;
}

function readKrbError(top: Node): KrbError {
  const e = unApp(top, 30, 'KRB-ERROR');
  const text = opt(e, 11, 'KRB-ERROR');
  const edata = opt(e, 12, 'KRB-ERROR');
  return {
    code: asInt(req(e, 6, 'KRB-ERROR'), 'KRB-ERROR.error-code'),
    stime: asTime(req(e, 4, 'KRB-ERROR'), 'KRB-ERROR.stime'),
    text: text ? asString(text, 'KRB-ERROR.e-text') : undefined,
    edata: edata ? asBytes(edata, 'KRB-ERROR.e-data') : undefined,
  };
}

/** EncASRepPart (25) or EncTGSRepPart (26), after decryption. MIT sends 25 in both; either is accepted. */
export function readEncKdcRepPart(plain: Buffer): EncKdcRepPart {
  const top = fromDer(plain, 'EncKDCRepPart');
  const tag = appTag(top);
  const r = unApp(top, tag === 26 ? 26 : 25, 'EncKDCRepPart');
  return {
    key: readKey(req(r, 0, 'EncKDCRepPart'), 'EncKDCRepPart.key'),
    nonce: asInt(req(r, 2, 'EncKDCRepPart'), 'EncKDCRepPart.nonce'),
    endtime: asTime(req(r, 7, 'EncKDCRepPart'), 'EncKDCRepPart.endtime'),
    srealm: asString(req(r, 9, 'EncKDCRepPart'), 'EncKDCRepPart.srealm'),
    sname: readPrincipal(req(r, 10, 'EncKDCRepPart'), 'EncKDCRepPart.sname'),
  };
}

/** ETYPE-INFO2 (padata 19, RFC 4120 §5.2.7.5): the salt and iteration count for each enctype. */
export function readEtypeInfo2(value: Buffer): Array<{ etype: number; salt?: string; iterations?: number }> {
  return items(fromDer(value, 'ETYPE-INFO2'), 'ETYPE-INFO2').map((e) => {
    const salt = opt(e, 1, 'ETYPE-INFO2-ENTRY');
    const params = opt(e, 2, 'ETYPE-INFO2-ENTRY');
    return {
      etype: asInt(req(e, 0, 'ETYPE-INFO2-ENTRY'), 'ETYPE-INFO2-ENTRY.etype'),
      salt: salt ? asString(salt, 'ETYPE-INFO2-ENTRY.salt') : undefined,
      iterations: params ? asBytes(params, 's2kparams').readUInt32BE(0) : undefined,
    };
  });
}

/** METHOD-DATA in a PREAUTH_REQUIRED error's e-data. */
export function readMethodData(edata: Buffer): PaData[] {
  return readPadata(fromDer(edata, 'METHOD-DATA'), 'METHOD-DATA');
}

export interface ApRequest { mutual: boolean; ticket: Ticket; authenticator: EncryptedData }

export function readApReq(buf: Buffer): ApRequest {
  const r = unApp(fromDer(buf, 'AP-REQ'), 14, 'AP-REQ');
  return {
    mutual: (asFlags(req(r, 2, 'AP-REQ'), 'AP-REQ.ap-options') & 0x20000000) !== 0,
    ticket: readTicket(req(r, 3, 'AP-REQ')),
    authenticator: readEncrypted(req(r, 4, 'AP-REQ'), 'AP-REQ.authenticator'),
  };
}

export function readEncTicketPart(plain: Buffer): EncTicketPart {
  const r = unApp(fromDer(plain, 'EncTicketPart'), 3, 'EncTicketPart');
  return {
    key: readKey(req(r, 1, 'EncTicketPart'), 'EncTicketPart.key'),
    crealm: asString(req(r, 2, 'EncTicketPart'), 'EncTicketPart.crealm'),
    cname: readPrincipal(req(r, 3, 'EncTicketPart'), 'EncTicketPart.cname'),
    authtime: asTime(req(r, 5, 'EncTicketPart'), 'EncTicketPart.authtime'),
    endtime: asTime(req(r, 7, 'EncTicketPart'), 'EncTicketPart.endtime'),
  };
}

export interface Authenticator { crealm: string; cname: Principal; ctime: number; cusec: number; seqNumber?: number }

export function readAuthenticator(plain: Buffer): Authenticator {
  const r = unApp(fromDer(plain, 'Authenticator'), 2, 'Authenticator');
  const sq = opt(r, 7, 'Authenticator');
  return {
    crealm: asString(req(r, 1, 'Authenticator'), 'Authenticator.crealm'),
    cname: readPrincipal(req(r, 2, 'Authenticator'), 'Authenticator.cname'),
    cusec: asInt(req(r, 4, 'Authenticator'), 'Authenticator.cusec'),
    ctime: asTime(req(r, 5, 'Authenticator'), 'Authenticator.ctime'),
    seqNumber: sq ? asInt(sq, 'Authenticator.seq-number') : undefined,
  };
}

export function decryptPart(key: Key, usage: number, e: EncryptedData): Buffer {
  if (e.etype !== key.enctype) throw new KerberosMessageError('KRB_ENCTYPE_MISMATCH', `encrypted with enctype ${e.etype}, key is enctype ${key.enctype}`);
  return decrypt(key, usage, e.cipher);
}
