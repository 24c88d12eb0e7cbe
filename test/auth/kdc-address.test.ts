// The --kdc flag: HOST:PORT with an optional /udp or /tcp, an IPv6 host in
// brackets (handed to the socket without them), and one KRB_BAD_KDC error
// for anything else.

import t from 'tap';
import { parseKdcAddress } from '../../engine/auth/kerberos/kdc-client.js';

t.same(parseKdcAddress('127.0.0.1:88'), { host: '127.0.0.1', port: 88, transport: 'udp' }, 'UDP unless told');
t.same(parseKdcAddress(' kdc.example.com:750/tcp '), { host: 'kdc.example.com', port: 750, transport: 'tcp' });
t.same(parseKdcAddress('[::1]:8888/udp'), { host: '::1', port: 8888, transport: 'udp' }, 'IPv6 without its brackets');

for (const bad of ['::1:88', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', 'kdc:88/sctp', '[::1]']) {
  t.throws(() => parseKdcAddress(bad), { code: 'KRB_BAD_KDC', message: /^--kdc ".*": expected HOST:PORT/ }, `${bad}: KRB_BAD_KDC`);
}
