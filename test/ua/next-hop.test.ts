// The next hop of an in-dialog request (§12.2.1.1): the remote target or the
// first route, reachable only when it is an IP literal of the run's transport;
// the same answer every time a URI is asked again (hops are kept per URI).

import t from 'tap';
import { dialogHop, uriHop } from '../../engine/ua/next-hop.js';

t.test('remote target, route, and what is not reachable', async (t) => {
  const hop = uriHop('sip:service@127.0.0.1:5070', 'udp');
  t.same(hop, { protocol: 'udp', host: '127.0.0.1', port: 5070 });
  t.equal(uriHop('sip:service@127.0.0.1:5070', 'udp'), hop, 'asked again: the same hop');
  t.ok(Object.isFrozen(hop), 'a shared hop cannot be changed by one caller');
  t.same(uriHop('sip:b@[::1]', 'udp'), { protocol: 'udp', host: '::1', port: 5060 });
  t.same(uriHop('sip:b@127.0.0.1:5070;transport=tcp', 'tcp'), { protocol: 'tcp', host: '127.0.0.1', port: 5070 });
  t.equal(uriHop('sip:b@127.0.0.1:5070;transport=tcp', 'udp'), undefined, 'another transport');
  t.equal(uriHop('sip:b@example.com', 'udp'), undefined, 'a name');
  t.equal(uriHop('sip:b@example.com', 'udp'), undefined, 'a name, asked again');
  t.equal(uriHop('not a uri', 'udp'), undefined);
  t.same(dialogHop({ routeSet: ['<sip:127.0.0.2:5080;lr>'], remoteTarget: 'sip:x@127.0.0.1' }, 'udp'), { protocol: 'udp', host: '127.0.0.2', port: 5080 });
  t.same(dialogHop({ routeSet: [], remoteTarget: 'sip:x@127.0.0.1' }, 'udp'), { protocol: 'udp', host: '127.0.0.1', port: 5060 });
});

t.test('many distinct URIs: the kept hops stay bounded and right', async (t) => {
  let wrong = 0;
  for (let port = 10001; port <= 12000; port++) if (uriHop(`sip:u@127.0.0.1:${port}`, 'udp')?.port !== port) wrong++;
  t.equal(wrong, 0, '2,000 URIs, each its own port');
  t.equal(uriHop('sip:u@127.0.0.1:10001', 'udp')?.port, 10001, 'one let go and asked again');
});
