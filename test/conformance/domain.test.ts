// `sipstorm conform --domain`: the domain of the Request-URI and To of every
// case. Torture messages keep every byte but the hosts of their Request-URI
// and To headers (folded, compact, inside <> or not, user parts full of ';',
// '?' and escaped '@'); templated suites take it as ${domain}; a bad value is
// one line and exit 2. (The Kamailio run of conform.test.ts uses it.)

import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rewriteDomain } from '../../engine/suites/index.js';
import { runCli } from '../support/cli.js';

const torture = new URL('../../../scenarios/conformance/torture/', import.meta.url).pathname;
const read = (f: string) => readFileSync(join(torture, f));
const text = (b: Buffer) => b.toString('latin1');
const DOMAIN = 'kam.test:5099';

t.test('torture messages: the Request-URI and To hosts change, and nothing else', async (t) => {
  const cases: [string, string, string[]][] = [
    ['esc01.dat', 'INVITE sip:sips%3Auser%40example.com@kam.test:5099 SIP/2.0', ['To: sip:%75se%72@kam.test:5099']],
    ['semiuri.dat', 'OPTIONS sip:user;par=u%40example.net@kam.test:5099 SIP/2.0', ['To: sip:j_user@kam.test:5099']],
    ['escruri.dat', 'INVITE sip:user@kam.test:5099?Route=%3Csip:example.com%3E SIP/2.0', ['To: sip:user@kam.test:5099']],
    ['lwsruri.dat', 'INVITE sip:user@kam.test:5099; lr SIP/2.0', ['To: sip:user@kam.test:5099;tag=3xfe-9921883-z9f']],
    ['ltgtruri.dat', 'INVITE <sip:user@kam.test:5099> SIP/2.0', ['To: sip:user@kam.test:5099']],
    ['lwsstart.dat', 'INVITE  sip:user@kam.test:5099  SIP/2.0', ['To: sip:user@kam.test:5099']],
    ['cparam01.dat', 'REGISTER sip:kam.test:5099 SIP/2.0', ['To: sip:watson@kam.test:5099']],
    ['esc02.dat', 'RE%47IST%45R sip:kam.test:5099 SIP/2.0', ['To: "%Z%45" <sip:resource@kam.test:5099>']],
    ['badaspec.dat', 'OPTIONS sip:user@kam.test:5099 SIP/2.0', ['To: "Watson, Thomas" < sip:t.watson@kam.test:5099 >']],
    ['multi01.dat', 'INVITE sip:user@kam.test:5099 SIP/2.0', ['To: sip:user@kam.test:5099', 'To: sip:other@kam.test:5099']],
    ['inv2543.dat', 'INVITE sip:UserB@kam.test:5099 SIP/2.0', ['To: sip:+16505552222@kam.test:5099;user=phone']],
    ['unkscm.dat', 'OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0', ['To: sip:user@kam.test:5099']],
    ['unksm2.dat', 'REGISTER sip:kam.test:5099 SIP/2.0', ['To: isbn:2983792873']],
  ];
  for (const [file, requestLine, tos] of cases) {
    const lines = text(rewriteDomain(read(file), DOMAIN)).split('\r\n');
    t.equal(lines[0], requestLine, `${file}: Request-URI`);
    t.same(lines.filter((l) => /^(To|t)\s*:/i.test(l)), tos, `${file}: To`);
  }
  const wsinv = text(rewriteDomain(read('wsinv.dat'), DOMAIN));
  t.match(wsinv, /\r\nTO :\r\n sip:vivekg@kam\.test:5099 ;   tag    = 1918181833n\r\n/, 'a folded To, its URI on the next line');
  const intmeth = text(rewriteDomain(read('intmeth.dat'), DOMAIN));
  t.match(intmeth, /^\S+ sip:1_unusual\.URI~\(to-be!sure\)&isn't\+it\$\/crazy\?,\/;;\*:&it\+has=1,weird!\*pas\$wo~d_too\.\(doesn't-it\)@kam\.test:5099 SIP\/2\.0\r\n/);
  t.match(intmeth, /<sip:1_unusual\.URI~\(to-be!sure\)&isn't\+it\$\/crazy\?,\/;;\*@kam\.test:5099>/);

  // Every fixture: the same lines, and the only lines that differ are the request line and To lines, now naming the domain.
  for (const file of readdirSync(torture).filter((f) => f.endsWith('.dat'))) {
    const original = read(file);
    const out = rewriteDomain(original, DOMAIN);
    if (/^SIP\//.test(text(original))) {
      t.same(out, original, `${file}: a response goes out as it is`);
      continue;
    }
    const before = text(original).split('\n');
    const after = text(out).split('\n');
    const changed = after.map((l, i) => [i, l, before[i]] as const).filter(([, l, b]) => l !== b);
    const toLine = (i: number) => /^(To|t)\s*:/i.test(before[i]!) || (/^[ \t]/.test(before[i]!) && /^(To|t)\s*:/i.test(before[i - 1]!));
    const stray = changed.filter(([i, l]) => !(i === 0 || toLine(i)) || !l.includes(DOMAIN));
    t.same({ lines: after.length, stray }, { lines: before.length, stray: [] }, `${file}: byte for byte but for the Request-URI and To hosts`);
  }
});

t.test('--domain: templated suites put it in the Request-URI and To', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'suite-domain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The embedded server is the registrar of every domain name: the 200 echoes the To it was sent.
  writeFileSync(join(dir, 'domain.yaml'), `name: domain
cases:
  - id: register-in-domain
    rfc: RFC 3261
    section: "10.2"
    title: a REGISTER to the --domain
    steps:
      - auth: answer
        expect: 2xx
        match: { To: ['^<sip:\${user}@example\\.com>'] }
        send: |
          REGISTER sip:\${domain} SIP/2.0
          Via: SIP/2.0/UDP \${local};branch=\${branch};rport
          Max-Forwards: 70
          From: <sip:\${user}@\${domain}>;tag=\${tag}
          To: <sip:\${user}@\${domain}>
          Call-ID: \${call.id}
          CSeq: \${cseq} REGISTER
          Contact: <sip:\${user}@\${local}>;expires=60
          Content-Length: 0
`);
  const ok = await runCli(['conform', '--suite-dir', dir, '--domain', 'example.com', '--no-reports'], { outDir: false });
  t.equal(ok.status, 0, ok.out.slice(-1500));
  t.match(ok.stdout, /✓ domain register-in-domain/);
  const without = await runCli(['conform', '--suite-dir', dir, '--no-reports'], { outDir: false });
  t.equal(without.status, 1, 'without --domain the To names the target: the match fails');
  t.match(without.stdout, /has no To matching .*it has: <sip:user\d+@127\.0\.0\.1:\d+>/);
});

t.test('--domain: a value that cannot stand in a SIP URI is one line, exit 2', async (t) => {
  for (const bad of ['exa mple.com', 'sip:example.com', 'example.com:99999', '[zz]:5060', '']) {
    const r = await runCli(['conform', '--domain', bad, '--no-reports'], { outDir: false, timeoutMs: 20_000 });
    t.equal(r.status, 2, `'${bad}': exit 2`);
    t.match(r.stderr, /--domain must be a host or host:port as in a SIP URI/);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});
