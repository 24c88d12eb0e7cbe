// Talking to a KDC (RFC 4120 §7.2): one request, one reply, over UDP (falling
// back to TCP when the reply is too big, KRB_ERR_RESPONSE_TOO_BIG) or TCP
// with its 4-byte length prefix; then the two exchanges a client needs: the
// AS exchange for a TGT with a password (pre-authenticated with
// PA-ENC-TIMESTAMP when the KDC asks, §5.2.7.2) and the TGS exchange for a
// service ticket. Every failure is a KerberosError with a stable code.

import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { bareHost } from '../../codec/index.js';
import { SipstormError } from '../../errors.js';
import { ENCTYPE_AES128, ENCTYPE_AES256, stringToKeyAsync, KerberosCryptoError, type Key } from './crypto.js';
import {
  buildApReq, buildAsReq, buildTgsReq, decryptPart, isKrbError, KrbErrorCode, NT_PRINCIPAL, NT_SRV_INST, paEncTimestamp,
  principal, principalText, readEncKdcRepPart, readEtypeInfo2, readKdcAnswer, readMethodData, tgsBodyChecksum, Usage,
  type KdcReply, type KdcRequestBody, type KrbError, type Principal, type Ticket,
} from './messages.js';

export class KerberosError extends SipstormError {}

export interface KdcAddress { host: string; port: number; transport: 'udp' | 'tcp' }

const MAX_REPLY = 65_536;
/** How long one exchange may take, resends included (MIT's clients give a KDC about as long). */
const DEFAULT_TIMEOUT_MS = 10_000;
const RESPONSE_TOO_BIG = 52;

/** Parses `host:port[/tcp|/udp]` (the --kdc flag). */
export function parseKdcAddress(text: string): KdcAddress {
  const m = /^(\[[^\]]+\]|[^:/]+):(\d{1,5})(?:\/(udp|tcp))?$/.exec(text.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new KerberosError('KRB_BAD_KDC', `--kdc ${JSON.stringify(text)}: expected HOST:PORT, optionally /udp or /tcp`);
  return { host: bareHost(m[1]!), port, transport: (m[3] as 'udp' | 'tcp' | undefined) ?? 'udp' };
}

export function exchange(kdc: KdcAddress, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return kdc.transport === 'tcp' ? exchangeTcp(kdc, request, timeoutMs) : exchangeUdp(kdc, request, timeoutMs);
}

/** UDP requests are sent again after this long without an answer, until the timeout (RFC 4120 §7.2.1: the client retransmits). */
const UDP_RESEND_MS = 1000;

function exchangeUdp(kdc: KdcAddress, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(kdc.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => done(new KerberosError('KRB_KDC_TIMEOUT', `the KDC at ${kdc.host}:${kdc.port}/udp did not answer within ${timeoutMs} ms`)), timeoutMs);
    const resend = setInterval(() => socket.send(request, kdc.port, kdc.host), UDP_RESEND_MS);
    const done = (err?: Error, reply?: Buffer): void => {
      clearTimeout(timer);
      clearInterval(resend);
      socket.close();
      if (err) reject(err); else resolve(reply!);
    };
    socket.on('error', (e) => done(new KerberosError('KRB_KDC_UNREACHABLE', `the KDC at ${kdc.host}:${kdc.port}/udp: ${e.message}`)));
    socket.on('message', (msg) => {
      const answer = safeRead(msg);
      if (answer && isKrbError(answer) && answer.code === RESPONSE_TOO_BIG) {
        clearTimeout(timer); clearInterval(resend); socket.close();
        exchangeTcp({ ...kdc, transport: 'tcp' }, request, timeoutMs).then(resolve, reject);
        return;
      }
      done(undefined, msg);
    });
    socket.send(request, kdc.port, kdc.host);
  });
}

function safeRead(msg: Buffer): KdcReply | KrbError | undefined {
  try { return readKdcAnswer(msg, 11); } catch { return undefined; }
}

function exchangeTcp(kdc: KdcAddress, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(kdc.port, kdc.host);
    const chunks: Buffer[] = [];
    let have = 0;
    const timer = setTimeout(() => done(new KerberosError('KRB_KDC_TIMEOUT', `the KDC at ${kdc.host}:${kdc.port}/tcp did not answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error, reply?: Buffer): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err); else resolve(reply!);
    };
    socket.on('error', (e) => done(new KerberosError('KRB_KDC_UNREACHABLE', `the KDC at ${kdc.host}:${kdc.port}/tcp: ${e.message}`)));
    socket.on('connect', () => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(request.length);
      socket.write(Buffer.concat([len, request]));
    });
    socket.on('data', (d) => {
      chunks.push(d); have += d.length;
      const all = Buffer.concat(chunks);
      if (have < 4) return;
      const need = all.readUInt32BE(0);
      if (need > MAX_REPLY) return done(new KerberosError('KRB_MALFORMED', `the KDC's TCP reply claims ${need} bytes (over ${MAX_REPLY})`));
      if (have >= 4 + need) done(undefined, all.subarray(4, 4 + need));
    });
    socket.on('end', () => done(new KerberosError('KRB_KDC_UNREACHABLE', `the KDC at ${kdc.host}:${kdc.port}/tcp closed the connection before a full reply`)));
  });
}

/** A ticket with the session key that goes with it. */
export interface Credential {
  realm: string;
  client: Principal;
  ticket: Ticket;
  sessionKey: Key;
  endtime: number;
}

export interface AsOptions {
  kdc: KdcAddress;
  realm: string;
  user: string;
  password: string;
  /** The user's long-term keys from a keytab (kadmin ktadd -k FILE user), used instead of the password. */
  keys?: Key[];
  now: () => number;
  timeoutMs?: number;
}

const ETYPES = [ENCTYPE_AES256, ENCTYPE_AES128];
const DAY = 86_400_000;

function explain(e: KrbError, who: string): KerberosError {
  const text = e.text ? ` (${e.text})` : '';
  switch (e.code) {
    case KrbErrorCode.PRINCIPAL_UNKNOWN: return new KerberosError('KRB_PRINCIPAL_UNKNOWN', `the KDC does not know ${who}${text}`);
    case KrbErrorCode.PREAUTH_FAILED: return new KerberosError('KRB_BAD_PASSWORD', `the KDC refused the password of ${who}${text}`);
    case KrbErrorCode.SKEW: return new KerberosError('KRB_CLOCK_SKEW', `the clock differs from the KDC's by more than it allows (KDC time ${new Date(e.stime).toISOString()})${text}`);
    default: return new KerberosError('KRB_KDC_ERROR', `the KDC answered error ${e.code} for ${who}${text}`);
  }
}

/** The AS exchange: a TGT for user@realm with a password. */
export async function requestTgt(o: AsOptions): Promise<Credential> {
  const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cname = principal(NT_PRINCIPAL, ...o.user.split('/'));
  const who = principalText(cname, o.realm);
  const body = (): KdcRequestBody => ({
    options: 0x40000000 /* forwardable */, cname, realm: o.realm, sname: principal(NT_SRV_INST, 'krbtgt', o.realm),
    till: o.now() + DAY, nonce: randomInt(1, 0x7fffffff), etypes: ETYPES,
  });
  let b = body();
  let answer = readKdcAnswer(await exchange(o.kdc, buildAsReq(b), timeout), 11);
  let key: Key | undefined;
  if (isKrbError(answer)) {
    if (answer.code !== KrbErrorCode.PREAUTH_REQUIRED) throw explain(answer, who);
    key = await keyFromHints(answer.edata ? readMethodData(answer.edata) : [], o);
    b = body();
    answer = readKdcAnswer(await exchange(o.kdc, buildAsReq(b, [paEncTimestamp(key, o.now())]), timeout), 11);
    if (isKrbError(answer)) throw explain(answer, who);
  }
  key ??= await keyFromHints(answer.padata, o);
  let part;
  try {
    part = readEncKdcRepPart(decryptPart(key, Usage.AS_REP, answer.encPart));
  } catch (e) {
    if (e instanceof KerberosCryptoError && e.code === 'KRB_INTEGRITY') throw new KerberosError('KRB_BAD_PASSWORD', `the AS-REP for ${who} does not decrypt with its password`);
    throw e;
  }
  if (part.nonce !== b.nonce) throw new KerberosError('KRB_NONCE_MISMATCH', `the AS-REP for ${who} answers another request (nonce)`);
  return { realm: answer.crealm, client: answer.cname, ticket: answer.ticket, sessionKey: part.key, endtime: part.endtime };
}

/** The long-term key from ETYPE-INFO2 (salt, iterations), or the default salt realm + name components; or from a keytab. */
async function keyFromHints(padata: Array<{ type: number; value: Buffer }>, o: AsOptions): Promise<Key> {
  const info = padata.find((p) => p.type === 19);
  const entries = info ? readEtypeInfo2(info.value) : [];
  if (o.keys) {
    const offered = entries.length ? entries.map((e) => e.etype) : ETYPES;
    const key = offered.map((e) => o.keys!.find((k) => k.enctype === e)).find((k) => k !== undefined);
    if (!key) throw new KerberosError('KRB_NO_KEY', `the keytab holds no key of ${o.user} in an enctype the KDC offers (${offered.join(', ')})`);
    return key;
  }
  const entry = ETYPES.map((e) => entries.find((x) => x.etype === e)).find((x) => x !== undefined);
  const etype = entry?.etype ?? ENCTYPE_AES256;
  const salt = entry?.salt ?? o.realm + o.user.split('/').join('');
  return stringToKeyAsync(etype, o.password, salt, entry?.iterations ?? 4096);
}

/** The TGS exchange: a ticket for `service` (e.g. "sip/127.0.0.1") with a TGT. */
export async function requestServiceTicket(kdc: KdcAddress, tgt: Credential, service: string, now: () => number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Credential> {
  const body: KdcRequestBody = {
    options: 0, realm: tgt.realm, sname: principal(NT_SRV_INST, ...service.split('/')), till: now() + DAY,
    nonce: randomInt(1, 0x7fffffff), etypes: ETYPES,
  };
  const apReq = buildApReq(tgt.ticket, tgt.sessionKey, {
    crealm: tgt.realm, cname: tgt.client, now: now(), bodyChecksum: tgsBodyChecksum(tgt.sessionKey, body),
  }, Usage.TGS_REQ_AUTH);
  const answer = readKdcAnswer(await exchange(kdc, buildTgsReq(body, apReq), timeoutMs), 13);
  if (isKrbError(answer)) throw explain(answer, `${service}@${tgt.realm}`);
  const part = readEncKdcRepPart(decryptPart(tgt.sessionKey, Usage.TGS_REP, answer.encPart));
  if (part.nonce !== body.nonce) throw new KerberosError('KRB_NONCE_MISMATCH', `the TGS-REP for ${service} answers another request (nonce)`);
  return { realm: tgt.realm, client: tgt.client, ticket: answer.ticket, sessionKey: part.key, endtime: part.endtime };
}
