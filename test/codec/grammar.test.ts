// Splitting a list header's value at its top-level commas: elements trimmed
// as String#trim trims (tabs, no-break and other Unicode spaces included),
// empty ones dropped, commas inside quotes and <...> kept, and appending to a
// list adds after what it held. The expected lists are what the split gave
// before it cut and trimmed in one step (slice, trim, then filter).

import t from 'tap';
import { appendTopLevel, splitTopLevel } from '../../engine/codec/grammar.js';

const cases: [string, string[]][] = [
  ['INVITE, ACK, CANCEL, OPTIONS, BYE', ['INVITE', 'ACK', 'CANCEL', 'OPTIONS', 'BYE']],
  ['INVITE,ACK', ['INVITE', 'ACK']],
  [' INVITE ,\tACK\t, , ,BYE ', ['INVITE', 'ACK', 'BYE']],
  ['\u00a0INVITE\u00a0,\ufeffACK\u3000,\u2003BYE', ['INVITE', 'ACK', 'BYE']],
  ['"Bob, Jr." <sip:bob@b.example;x="a,b">;tag=1, <sip:c@c.example>', ['"Bob, Jr." <sip:bob@b.example;x="a,b">;tag=1', '<sip:c@c.example>']],
  ['"a \\" , b" <sip:a@a>, <sip:b@b>', ['"a \\" , b" <sip:a@a>', '<sip:b@b>']],
  ['', []],
  [' , ,', []],
  ['é, ü ,ñ', ['é', 'ü', 'ñ']],
];

t.test('elements trimmed, empty ones dropped, quoted and bracketed commas kept', async (t) => {
  for (const [value, want] of cases) t.same(splitTopLevel(value), want, JSON.stringify(value));
});

t.test('appending to a list adds after what it held', async (t) => {
  const out = ['first'];
  appendTopLevel('INVITE, ACK', out);
  appendTopLevel(' ', out);
  appendTopLevel('BYE', out);
  t.same(out, ['first', 'INVITE', 'ACK', 'BYE']);
});
