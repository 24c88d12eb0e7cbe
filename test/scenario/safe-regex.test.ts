// The linear-time matcher of scenario and suite patterns: it agrees with
// RegExp (matches and captures) on the syntax it accepts, refuses what needs
// backtracking with the offset of the problem, and answers the patterns that
// make RegExp run for minutes at once.

import t from 'tap';
import { compileSafeRegex, RegexError } from '../../engine/scenario/index.js';

const PATTERNS = [
  'expires=', '^SIP/2\\.0', 'tag=([^;]+)', '^<sip:([^@>]+)@', '(a|ab)(c|bcd)(d*)', '^(a+)+$', '(\\d{1,3})\\.(\\d{1,3})',
  '\\bfoo\\b', '\\Bar', 'a.c', '[a-c]+x?', '[^\\s;]+', 'x{2,}', 'x{2}y{0,1}', 'a*?b', '(a*)*b', '(a|b)*?c', '^$', '^', '$',
  'colou?r', '(?:ab)+', '(?<user>\\w+)@(?<host>[\\w.]+)', '[\\d-x]', '[\\w.-]+', '\\x41\\u0042', 'a{', 'a{1,', '}', ']',
  'Kamailio \\(', '(\\s*)(\\S+)', '[.]', '\\/', 'q=0?\\.\\d+', '(a)|b', '((a)|b)+', 'realm="([^"]*)"', 'z9hG4bK[\\w.!%*+`\'~-]+',
  '[]', '[^]', '(|a)+', '(a?){3}', 'a\\cJ', '\\0',
];
const INPUTS = [
  '', 'a', 'ab', 'abcd', 'abcbcd', 'aaaa', 'aaaab', 'xx', 'xxy', 'color colour', '192.168.1.20', 'foo bar', 'foobar', 'bar',
  '<sip:alice@example.com>;tag=a6c85cf', 'SIP/2.0 200 OK', 'expires=3600', 'Kamailio (5.6)', 'bob@host.example', 'a-x',
  'AB', 'q=0.7', 'realm="x.org", nonce="1"', 'z9hG4bK776asdhds', 'x\ny', ' \t lead', 'aab', 'abab', 'c', 'bbc', 'a\n', 'A',
];

t.test('agrees with RegExp on matches and captures', async (t) => {
  let compared = 0;
  for (const p of PATTERNS) {
    for (const flags of ['', 'i']) {
      const ours = compileSafeRegex(p, flags === 'i');
      const theirs = new RegExp(p, flags);
      for (const s of INPUTS) {
        const want = theirs.exec(s);
        const got = ours.exec(s);
        t.same(got, want ? [...want] : null, `/${p}/${flags} on ${JSON.stringify(s)}`);
        t.equal(ours.test(s), theirs.test(s));
        compared++;
      }
    }
  }
  t.ok(compared > 2000);
});

t.test('refuses backtracking-only syntax, with the offset', async (t) => {
  const refused: [string, RegExp, number][] = [
    ['(a)\\1', /backreferences/, 3],
    ['(?<n>a)\\k<n>', /backreferences/, 7],
    ['foo(?=bar)', /lookahead/, 3],
    ['(?<!x)y', /lookbehind/, 0],
    ['(?i)abc', /invalid group/, 0],
    ['a{2000}', /repeat count/, 1],
    ['(a{1000}){1000}', /too large/, 0],
    ['[b-a]', /out of order/, 2],
    ['(ab', /unterminated group/, 0],
    ['ab)', /unmatched/, 2],
    ['*a', /nothing to repeat/, 0],
    ['[abc', /unterminated character class/, 0],
    ['('.repeat(5000) + 'a' + ')'.repeat(5000), /nested more than 100 deep/, 100],
  ];
  for (const [p, message, offset] of refused) {
    try {
      compileSafeRegex(p);
      t.fail(`/${p}/ accepted`);
    } catch (err) {
      t.ok(err instanceof RegexError, `/${p}/ refused with a RegexError`);
      t.match((err as RegexError).message, message, `/${p}/: ${(err as Error).message}`);
      t.equal((err as RegexError).offset, offset, `/${p}/ at offset ${offset}`);
      t.equal((err as RegexError).code, 'REGEX_UNSUPPORTED');
    }
  }
});

t.test('catastrophic patterns for a backtracking engine answer at once', async (t) => {
  const server = 'Kamailio'.repeat(500) + ' (x86_64/linux)';
  const cases: [string, string][] = [
    ['^([\\w.-]+/?[\\w.-]*\\s?)+$', server],
    ['^(a+)+$', 'a'.repeat(20_000) + 'b'],
    ['(x+x+)+y', 'x'.repeat(20_000)],
    ['^(\\w|\\w\\w)*$', 'w'.repeat(10_000) + '!'],
  ];
  for (const [p, s] of cases) {
    const re = compileSafeRegex(p);
    t.equal(re.test(s), false, `/${p}/ against ${s.length} characters: no match`);
    t.equal(re.exec(s), null);
  }
  // A bound on the work rather than on time: the same answer for input 10 times longer is 10 times the steps at most,
  // which a backtracking engine never gives (24 characters of the first case already took it 84 s).
  t.equal(compileSafeRegex('^([\\w.-]+/?[\\w.-]*\\s?)+$').test('Kamailio/5.6 (x86_64/linux)'), false, 'a space in the product comment: no match');
  t.equal(compileSafeRegex('^([\\w.-]+/?[\\w.-]*\\s?)+$').test('Kamailio/5.6 linux'), true);
});

t.test('conformance suites refuse such patterns in match/absent when they load', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { loadSuite } = await import('../../engine/suites/load.js');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-suite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const suite = (pattern: string) =>
    [
      'name: s',
      'cases:',
      '  - id: c',
      '    rfc: RFC 3261',
      "    section: '8.2'",
      '    title: t',
      '    steps:',
      `      - { expect: 2xx, match: { Server: ['${pattern}'] }, send: "OPTIONS sip:\${target.host} SIP/2.0" }`,
    ].join('\n');
  writeFileSync(join(dir, 's.yaml'), suite('^(\\w+) \\1$'));
  t.throws(() => loadSuite(dir, 's'), { code: 'SUITE_INVALID', message: /'match\.Server': bad regular expression \/\^\(\\w\+\) \\1\$\/ at character 8: backreferences/ });
  writeFileSync(join(dir, 's.yaml'), suite('^${user}@([\\w.-]+/?[\\w.-]*\\s?)+$'));
  t.doesNotThrow(() => loadSuite(dir, 's'), 'variables and nested quantifiers are fine: matching is linear');
});

t.test('the work of one match is bounded: a text too long for the pattern does not fit', async (t) => {
  const small = compileSafeRegex('tag=([^;]+)');
  t.equal(small.longestText, 65_536, 'a usual pattern takes texts up to 64 KiB');
  t.ok(small.fits('x'.repeat(65_536)));
  t.notOk(small.fits('x'.repeat(65_537)));
  const big = compileSafeRegex('[a-z]{1,990}x');
  t.ok(big.longestText >= 2000 && big.longestText < 2100, `the largest pattern takes about 2,000 characters (${big.longestText})`);
  t.notOk(big.fits('a'.repeat(3000)));
});
