// What a run's reports say about a clean registration and a clean call: the
// digest challenges in a column of their own (4xx 0), the ACKs sent counted
// (apart from the sent = finals + timeouts + errors balance), the INVITE's
// post-dial delay (first 18x) and the RFC 6076 SER and SRD, and where the
// reports went. The result still validates against schemas/result.schema.json.

import t from 'tap';
import { createRequire } from 'node:module';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli } from '../support/cli.js';

const require = createRequire(import.meta.url);

/** The console table row of a step, as column name -> cell (names from the table header above it). */
function row(out: string, step: string): Record<string, string> {
  const lines = out.split('\n');
  const at = lines.findIndex((l) => l.trim().startsWith(step + ' '));
  const header = lines.slice(0, at).reverse().find((l) => /^\s+step\s+sent\s+recv/.test(l))!;
  const names = header.trim().split(/\s+/);
  const cells = lines[at]!.trim().split(/\s+/);
  return Object.fromEntries(names.map((n, i) => [n, cells[i]!]));
}

t.test('register-auth and uac-call: challenges, ACKs, post-dial delay, SER/SRD, where the reports went', async (t) => {
  const r = await runCli(['run', 'scenarios/register-auth.yaml', 'scenarios/uac-call.yaml', '--total', '20', '--rate', '100', '--workers', '1'], { keep: true });
  t.teardown(() => rmSync(r.dir, { recursive: true, force: true }));
  t.equal(r.status, 0, r.out);
  t.notMatch(r.stderr, /do not balance/, 'the counts balance');

  const register = row(r.stdout, 'REGISTER');
  t.same([register['2xx'], register['4xx'], register.challenges], ['20', '0', '20'], 'REGISTER: 20 × 2xx, the 401 challenges in their own column, 4xx 0');
  const reg = r.result.scenarios[0].roles[0].steps[0];
  t.equal(reg.challenges, 20);
  t.equal(reg.codes['401'], 20, 'the JSON still has every response by code');

  const ack = row(r.stdout, 'ACK');
  t.equal(ack.sent, '20', 'the ACK row reads sent 20');
  const steps = r.result.scenarios[1].roles[0].steps;
  const ackStep = steps.find((s: { name: string }) => s.name === 'ACK');
  t.equal(ackStep.acks, 20, 'JSON: acks 20');
  t.equal(ackStep.sent, 0, 'JSON: an ACK is not a request sent in the balance (no response comes)');

  const invite = steps[0];
  t.equal(invite.pdd.count, 20, 'post-dial delay measured for every call (the server rings)');
  t.ok(invite.pdd.p50 > 0 && invite.pdd.p50 <= invite.service.p50, `PDD p50 ${invite.pdd.p50} ms <= INVITE-to-200 p50 ${invite.service.p50} ms`);
  t.equal(invite.srd.count, 20);
  t.match(r.stdout, /^ {2}INVITE: post-dial delay \(to the first 18x, 20 rang\): p50 \S+, p90 \S+, p99 \S+, max \S+$/m, 'console: the PDD line');
  const sessions = r.result.scenarios[1].sessions;
  t.same({ invites: sessions.invites, answered: sessions.answered, redirected: sessions.redirected, ser: sessions.ser }, { invites: 20, answered: 20, redirected: 0, ser: 100 }, 'RFC 6076 SER 100%');
  t.equal(sessions.srd.count, 20);
  t.match(r.stdout, /^ {2}sessions \(RFC 6076\): 20 INVITEs, SER 100% \(20 of 20 answered 2xx\), SRD p50 \S+, p99 \S+, max \S+$/m, 'console: the SER/SRD line');
  t.equal(r.result.scenarios[0].sessions, undefined, 'no session metrics without INVITE');

  const lines = r.stdout.trim().split('\n');
  const files = ['result.json', 'junit.xml', 'report.html'].map((f) => join(r.dir, f));
  t.equal(lines[lines.length - 2], `reports: ${files.join(', ')}`, 'where the reports went, above the verdict line');
  t.match(lines[lines.length - 1], /^PASSED: 40 started/);
  t.ok(files.every((f) => existsSync(f)));

  const html = readFileSync(files[2]!, 'utf8');
  t.match(html, /<th title="digest challenges \(401\/407\) answered with credentials">challenges<\/th>/, 'HTML: the challenges column');
  t.match(html, /<p class="pdd">INVITE: post-dial delay/, 'HTML: the PDD');
  t.match(html, /<p class="sessions">sessions \(RFC 6076\): 20 INVITEs, SER 100%/, 'HTML: SER and SRD');

  const Ajv = require('ajv') as typeof import('ajv').default;
  const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/result.schema.json'), 'utf8')));
  t.ok(validate(r.result), `result.json validates: ${JSON.stringify(validate.errors?.[0] ?? null)}`);
});

t.test('run --help says report.html is written', async (t) => {
  const r = await runCli(['run', '--help'], { outDir: false });
  t.equal(r.status, 0);
  t.match(r.stdout, /Reports land in --out \(default reports\/\): result\.json, junit\.xml and report\.html/);
});
