// A host as SIP writes it and as sockets want it: an IPv6 address gets its
// brackets once (RFC 3261 §25.1 IPv6reference), a name or IPv4 address none,
// and bareHost takes them off again.

import t from 'tap';
import { bareHost, hostText } from '../../engine/codec/index.js';

const cases: [string, string][] = [
  ['127.0.0.1', '127.0.0.1'],
  ['pbx.example.com', 'pbx.example.com'],
  ['::1', '[::1]'],
  ['2001:db8::10', '[2001:db8::10]'],
  ['[2001:db8::10]', '[2001:db8::10]'],
  ['::ffff:192.0.2.1', '[::ffff:192.0.2.1]'],
];

for (const [host, text] of cases) {
  t.equal(hostText(host), text, `hostText(${host})`);
  t.equal(bareHost(hostText(host)), host.replace(/^\[|\]$/g, ''), `bareHost(hostText(${host}))`);
}
