// [MS-SIPAE] NTLM and Kerberos authentication for SIP: the public surface.
export { SipaeClient, SipaeError, type SipaeLogin } from './client.js';
export { SipaeServer, type SipaeDecision, type SipaeServerOptions } from './server.js';
export { SecurityAssociation } from './security-association.js';
export { KerberosAcceptor } from '../kerberos/acceptor.js';
export { parseKeytab, keysFor, KeytabError, type KeytabEntry } from '../kerberos/keytab.js';
export type { Key } from '../kerberos/crypto.js';
export { parseKdcAddress, KerberosError, type KdcAddress } from '../kerberos/kdc-client.js';
