// Splitting a list header's value at its top-level commas: elements trimmed
// as String#trim trims (tabs, no-break and other Unicode spaces included),
// empty ones dropped, commas inside quotes and <...> kept, and appending to a
// list gives what splitting and pushing gave.

import t from 'tap';
import { appendTopLevel, splitTopLevel } from '../../engine/codec/grammar.js';

/** The definition: cut at every top-level comma, trim each piece, drop the empty ones. */
function reference(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((s) => s.length > 0);
}

const values = [
  'INVITE, ACK, CANCEL, OPTIONS, BYE',
  'INVITE,ACK',
  ' INVITE ,\tACK\t, , ,BYE ',
  '\u00a0INVITE\u00a0,\ufeffACK\u3000,\u2003BYE',
  '"Bob, Jr." <sip:bob@b.example;x="a,b">;tag=1, <sip:c@c.example>',
  '"a \\" , b" <sip:a@a>, <sip:b@b>',
  '',
  ' , ,',
  'é, ü ,ñ',
];

t.test('elements as slice, trim and filter would give them', async (t) => {
  for (const v of values) t.same(splitTopLevel(v), reference(v), JSON.stringify(v));
});

t.test('appending to a list adds after what it held', async (t) => {
  const out = ['first'];
  appendTopLevel('INVITE, ACK', out);
  appendTopLevel(' ', out);
  appendTopLevel('BYE', out);
  t.same(out, ['first', 'INVITE', 'ACK', 'BYE']);
});
