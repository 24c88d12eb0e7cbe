// A port number free for both UDP and TCP on 127.0.0.1, for peers that cannot
// bind port 0 themselves (SIPp, Kamailio, krb5kdc): bound once, released, handed
// over. The product's own KDC launcher needs the same, so it lives there.
export { freePort } from '../../engine/server/mit-kdc.js';
