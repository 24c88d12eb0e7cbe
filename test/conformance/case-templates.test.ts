// The suites on the UA core's pieces: a case's message is a scenario template
// (engine/scenario/template.ts) compiled at load and filled per case, with
// names it does not know left as written and ${length} filled last; a case's
// expectation is the scenario's Expectation, judged by engine/ua/expect.ts;
// its header patterns are templates whose values are escaped.

import t from 'tap';
import { parseMessage } from '../../engine/codec/index.js';
import { compileTemplate, renderTemplate } from '../../engine/scenario/index.js';
import { codeMatches, judge, parseExpectation } from '../../engine/ua/expect.js';
import { CaseVars, inspect } from '../../engine/suites/case-checks.js';
import { requestTemplate, type SuiteStep } from '../../engine/suites/load.js';

t.test('a case message: CRLF line ends, the empty line, ${...} filled, unknown names kept, ${length} last', async (t) => {
  const tpl = requestTemplate('MESSAGE sip:${callee}@${domain} SIP/2.0\nCall-ID: ${call.id}\nContact: <sip:u@${local}>\nContent-Length: ${length}\n\nhi ${user}');
  const text = renderTemplate(tpl, new CaseVars({ domain: 'example.test', 'call.id': 'c1', local: '127.0.0.1:5', 'uri.transport': ';transport=tcp', user: 'bob', length: '99' }));
  t.equal(
    text,
    'MESSAGE sip:${callee}@example.test SIP/2.0\r\nCall-ID: c1\r\nContact: <sip:u@127.0.0.1:5;transport=tcp>\r\nContent-Length: ${length}\r\n\r\nhi bob',
    'a name the case lacks stays as written (the case then fails saying so); ${length} waits for the body; the Contact names the transport',
  );
  const noBody = renderTemplate(requestTemplate('OPTIONS sip:x SIP/2.0\nContent-Length: 0\n'), new CaseVars({}));
  t.ok(noBody.endsWith('\r\n\r\n'), 'headers without a body end with the empty line');
  t.equal(new CaseVars({}).lookup('constructor'), '${constructor}', 'only the case\'s own names are values');
});

t.test('a case expectation is the scenario Expectation, judged in one place', async (t) => {
  const e = parseExpectation('2xx|401');
  t.same(e.codes, [[200, 299], [401, 401]], 'code ranges as a scenario step has them');
  t.ok(codeMatches(e.codes, 202) && codeMatches(e.codes, 401) && !codeMatches(e.codes, 403));
  t.equal(judge(e, 403), 'expected 2xx|401, got 403');
  t.equal(judge(parseExpectation('drop'), 200), 'expected drop, got 200', 'silence expected, an answer came');
  t.equal(judge(parseExpectation('!400|drop'), undefined), undefined);
});

t.test('a header pattern is a template: the values filled in are escaped to match literally', async (t) => {
  const res = parseMessage(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContact: <sip:user1@127.0.0.1:5>;expires=60\r\nContent-Length: 0\r\n\r\n'));
  const step = (pattern: string, absent: boolean): SuiteStep => ({
    expect: parseExpectation('200'), headers: [], capture: [['exp', 'Contact;expires']], pauseMs: 0,
    match: [{ header: 'Contact', template: compileTemplate(pattern), absent }],
  });
  const vars: Record<string, string> = { user: 'user1', local: '127.0.0.1:5' };
  t.equal(inspect(step('^<sip:${user}@${local}>', false), res, vars), undefined, 'matches, the dots of the address escaped');
  t.equal(vars.exp, '60', 'then the capture, into the case\'s variables');
  t.match(inspect(step('<sip:${user}@${local}>', true), res, vars), /^the 200 answer has Contact matching \/<sip:user1@127\\\.0\\\.0\\\.1:5>\/: <sip:user1@127\.0\.0\.1:5>;expires=60$/, 'absent: a match is the problem, shown as filled in');
  t.match(inspect(step('<sip:${user}@127', false), res, { user: 'user.' }), /^the 200 answer has no Contact matching \/<sip:user\\\.@127\/ \(it has: /, 'a value\'s dot matches only a dot');
});
