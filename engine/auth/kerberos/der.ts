// The DER encoding Kerberos messages travel in (RFC 4120 §5), on the asn1js
// package: small builders for the few ASN.1 types Kerberos uses (context and
// application tags, INTEGER, GeneralString, KerberosTime, OCTET STRING,
// BIT STRING) and readers that turn a malformed message into one
// KRB_MALFORMED error naming the field, never an exception from deep inside.

import * as asn1js from 'asn1js';
import { SipstormError } from '../../errors.js';

export class KerberosMessageError extends SipstormError {}

export type Node = asn1js.AsnType;

export const seq = (...items: Array<Node | undefined>): Node => new asn1js.Sequence({ value: items.filter((i): i is Node => i !== undefined) as asn1js.BaseBlock[] });
export const ctx = (n: number, item: Node): Node => new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: n }, value: [item as asn1js.BaseBlock] });
export const app = (n: number, item: Node): Node => new asn1js.Constructed({ idBlock: { tagClass: 2, tagNumber: n }, value: [item as asn1js.BaseBlock] });
export const int = (v: number): Node => asn1js.Integer.fromBigInt(v);
export const gstr = (s: string): Node => new asn1js.GeneralString({ value: s });
export const octets = (b: Uint8Array): Node => new asn1js.OctetString({ valueHex: b });
/** A 32-bit flags BIT STRING (KDCOptions, APOptions, TicketFlags): bit 0 is the most significant. */
export const flags32 = (v: number): Node => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return new asn1js.BitString({ valueHex: b, unusedBits: 0 });
};
/** KerberosTime: GeneralizedTime with whole seconds, "YYYYMMDDHHMMSSZ" (RFC 4120 §5.2.3). */
export const ktime = (ms: number): Node => new asn1js.GeneralizedTime({ valueDate: new Date(Math.floor(ms / 1000) * 1000) });

export function toDer(node: Node): Buffer {
  return Buffer.from((node as asn1js.BaseBlock).toBER(false));
}

export function fromDer(buf: Uint8Array, what: string): Node {
  const parsed = asn1js.fromBER(buf);
  if (parsed.offset === -1 || parsed.result.error) throw new KerberosMessageError('KRB_MALFORMED', `malformed ${what}: ${parsed.result.error || 'not DER'}`);
  return parsed.result;
}

interface Tagged { idBlock: { tagClass: number; tagNumber: number }; valueBlock: { value?: unknown } }

function children(node: Node, what: string): Node[] {
  const v = (node as unknown as Tagged).valueBlock?.value;
  if (!Array.isArray(v)) throw new KerberosMessageError('KRB_MALFORMED', `malformed ${what}: not a constructed value`);
  return v as Node[];
}

/** The content of [APPLICATION n], or a KRB_MALFORMED error. */
export function unApp(node: Node, n: number, what: string): Node {
  const id = (node as unknown as Tagged).idBlock;
  if (id?.tagClass !== 2 || id.tagNumber !== n) throw new KerberosMessageError('KRB_MALFORMED', `${what}: expected [APPLICATION ${n}], got class ${id?.tagClass} tag ${id?.tagNumber}`);
  const inner = children(node, what)[0];
  if (!inner) throw new KerberosMessageError('KRB_MALFORMED', `${what}: empty`);
  return inner;
}

/** The application tag number of a message (its type), or -1. */
export function appTag(node: Node): number {
  const id = (node as unknown as Tagged).idBlock;
  return id?.tagClass === 2 ? id.tagNumber : -1;
}

/** Field [n] of a SEQUENCE, or undefined when absent. */
export function opt(node: Node, n: number, what: string): Node | undefined {
  for (const c of children(node, what)) {
    const id = (c as unknown as Tagged).idBlock;
    if (id?.tagClass === 3 && id.tagNumber === n) return children(c, `${what}[${n}]`)[0];
  }
  return undefined;
}

export function req(node: Node, n: number, what: string): Node {
  const f = opt(node, n, what);
  if (!f) throw new KerberosMessageError('KRB_MALFORMED', `${what}: field [${n}] missing`);
  return f;
}

export function items(node: Node, what: string): Node[] {
  return children(node, what);
}

export function asInt(node: Node, what: string): number {
  if (!(node instanceof asn1js.Integer)) throw new KerberosMessageError('KRB_MALFORMED', `${what}: not an INTEGER`);
  return Number(node.toBigInt());
}

export function asString(node: Node, what: string): string {
  if (!(node instanceof asn1js.GeneralString) && !(node instanceof asn1js.Utf8String) && !(node instanceof asn1js.IA5String)) {
    throw new KerberosMessageError('KRB_MALFORMED', `${what}: not a string`);
  }
  return node.valueBlock.value;
}

export function asBytes(node: Node, what: string): Buffer {
  if (!(node instanceof asn1js.OctetString)) throw new KerberosMessageError('KRB_MALFORMED', `${what}: not an OCTET STRING`);
  return Buffer.from(node.valueBlock.valueHexView);
}

export function asTime(node: Node, what: string): number {
  if (!(node instanceof asn1js.GeneralizedTime)) throw new KerberosMessageError('KRB_MALFORMED', `${what}: not a KerberosTime`);
  return node.toDate().getTime();
}

export function asFlags(node: Node, what: string): number {
  if (!(node instanceof asn1js.BitString)) throw new KerberosMessageError('KRB_MALFORMED', `${what}: not a BIT STRING`);
  const b = Buffer.alloc(4);
  Buffer.from(node.valueBlock.valueHexView).copy(b, 0, 0, 4);
  return b.readUInt32BE();
}
