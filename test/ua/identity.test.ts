// Pattern identities: '{n}' with offsets and zero padding, compiled once per
// pattern and expanded per UA index, and the same values from expandPattern.

import t from 'tap';
import { expandPattern, patternIdentities } from '../../engine/ua/identity.js';

t.test('expandPattern: plain, offset, padding, several references, none', async (t) => {
  t.equal(expandPattern('user{n}', 7), 'user7');
  t.equal(expandPattern('u{n+100}', 7), 'u107');
  t.equal(expandPattern('u{n-1}', 7), 'u6');
  t.equal(expandPattern('u{n:05}', 7), 'u00007');
  t.equal(expandPattern('u{n+2:03}x', 7), 'u009x');
  t.equal(expandPattern('{n}-{n+1}', 1), '1-2');
  t.equal(expandPattern('{n:00}', 42), '42', "a width of zero pads nothing");
  t.equal(expandPattern('alice', 7), 'alice');
  t.equal(expandPattern('', 7), '');
  t.equal(expandPattern('{m}{n', 7), '{m}{n', 'what is no reference stays as written');
});

t.test('patternIdentities: each index its own user and password', async (t) => {
  const ids = patternIdentities('user{n:04}', 'pw{n}', 'example.com');
  const a = ids.get(3);
  t.same(a, { index: 3, user: 'user0003', password: 'pw3', domain: 'example.com', fields: {} });
  t.equal(ids.get(12345).user, 'user12345');
  t.same(ids.secrets(), [], 'a password pattern is not one secret');
  t.same(patternIdentities('u{n}', 'fixed').secrets(), ['fixed']);
});
