// Routing by Call-ID: one instance per Call-ID as a rule, caller and callee of
// one call sharing it (told apart by local tag), the latest routed winning an
// untagged lookup, and removal leaving the other.

import t from 'tap';
import { CallRoutes } from '../../engine/ua/call-routes.js';

const ua = (localTag: string) => ({ localTag });

t.test('one instance per Call-ID', async (t) => {
  const routes = new CallRoutes<{ localTag: string }>();
  const a = ua('a1');
  routes.add('c1', a);
  routes.add('c1', a);
  t.equal(routes.find('c1'), a);
  t.equal(routes.find('c1', 'other'), a, 'an unknown tag falls back to the instance');
  t.equal(routes.findTagged('c1', 'a1'), a);
  t.equal(routes.findTagged('c1', 'other'), undefined);
  routes.remove('c1', ua('x'));
  t.equal(routes.find('c1'), a, 'removing an instance not routed there changes nothing');
  routes.remove('c1', a);
  t.equal(routes.find('c1'), undefined);
});

t.test('caller and callee share a Call-ID', async (t) => {
  const routes = new CallRoutes<{ localTag: string }>();
  const caller = ua('caller');
  const callee = ua('callee');
  routes.add('c1', caller);
  routes.add('c1', callee);
  t.equal(routes.findTagged('c1', 'caller'), caller);
  t.equal(routes.findTagged('c1', 'callee'), callee);
  t.equal(routes.find('c1'), callee, 'the latest routed wins without a tag');
  routes.add('c1', caller);
  t.equal(routes.find('c1'), caller, 'routing again makes it the latest');
  routes.remove('c1', caller);
  t.equal(routes.find('c1', 'caller'), callee);
  t.equal(routes.findTagged('c1', 'caller'), undefined);
  routes.remove('c1', callee);
  t.equal(routes.find('c1'), undefined);
});
