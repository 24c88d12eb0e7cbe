// `sipstorm conform`: plays the conformance suites (scenarios/conformance/)
// against a server, one case at a time, and gives a verdict case by case and
// per RFC section, with the same reports as a load run. No --target: the
// embedded server (with its --fault-* knobs, to see the checks fail).

import { isIPv6 } from 'node:net';
import { fileURLToPath } from 'node:url';
import { UsageError, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { faultFlagSpecs, parseFaultFlags } from '../fault-flags.js';
import { startServer, type SipServer } from '../../engine/server/index.js';
import { probeTarget, resolveTarget, type Protocol, type Target } from '../../engine/transport/index.js';
import { parseDuration } from '../../engine/scenario/index.js';
import { applyVerdict, checkBalance, type RunResult, type ScenarioResult } from '../../engine/metrics/index.js';
import { bySection, caseLabel, loadSuite, suiteNames, suiteResult, SuiteRunner, type CaseResult, type Suite } from '../../engine/suites/index.js';
import { conformSummary } from '../../reporters/console.js';
import { printable } from '../../reporters/format.js';
import { buildRunResult, runFlags, writeFinalReports } from './run.js';
import { parseVarFlags, varFlagSpec } from '../var-flags.js';
import { readTlsFlags, unusableTargetError } from '../tls-flags.js';
import { readWsFlags } from '../ws-flags.js';
import { interrupts, type StopSignal } from '../interrupts.js';
import { markInterrupted } from '../interrupted-result.js';
import { checkReportFlags, exitAfterReports } from '../report-output.js';

const SHARED_WITH_RUN = ['local-host', 'out', 'json', 'junit', 'html', 'no-reports', 'quiet', 'tls-ca', 'tls-insecure', 'ws-origin', 'ws-header'];
const BUNDLED = fileURLToPath(new URL('../../../scenarios/conformance/', import.meta.url));

export const conformCommand: Command = {
  name: 'conform',
  summary: 'run the conformance suites against a server and give a verdict per case and RFC section',
  usage: 'sipstorm conform [--target sip:HOST:PORT] [--transport udp|tcp|tls|ws|wss] [--suite torture,rfc3261] [options]',
  details: `Suites live in scenarios/conformance/: torture (the RFC 4475 messages, byte for
byte but for the sent-by of the top Via, which names this tester so that the
answer can reach it; with --domain, the hosts of their Request-URI and To
become that domain), rfc3261 (requests a UAS must refuse or answer in a set
way), register (RFC 3261 §10.3), presence (RFC 6665, 3856, 3903), message
(RFC 3428) and auth (digest, RFC 7616/8760). Cases that register or
authenticate use user{n}/secret{n} with a fresh n per case, or --user and
--password. Every case is followed by an OPTIONS: a server that stops
answering fails that case, and the cases after it are reported as not run.
Over UDP, or TCP or TLS (--transport, or the target's transport= / sips:):
each case then has a connection of its own, and the cases that test what only
a datagram has are not applicable (docs/conformance.md). TLS needs --target
(the embedded server has no certificate).`,
  flags: [
    { name: 'target', short: 't', type: 'string', value: 'URI', help: 'server under test: sip:HOST:PORT[;transport=tcp|tls|ws|wss], sips:HOST:PORT, HOST:PORT or ws://HOST:PORT/PATH (default: the embedded server)' },
    { name: 'transport', type: 'string', value: 'udp|tcp|tls|ws|wss', help: "transport to play the suites over (default: the target's, else udp)" },
    { name: 'suite', type: 'string', value: 'LIST', help: 'comma list of suites (default: all of --suite-dir)' },
    { name: 'suite-dir', type: 'string', value: 'DIR', help: 'where the suites are (default: the bundled scenarios/conformance)' },
    { name: 'answer-wait', type: 'string', value: 'TIME', help: 'how long to wait for an answer a case needs (default 4s)' },
    { name: 'domain', type: 'string', value: 'HOST[:PORT]', help: "domain of every Request-URI and To, torture messages included (default: the target's host:port)" },
    { name: 'user', type: 'string', value: 'NAME', help: 'account to register and authenticate as (default: user{n} with a fresh n per case)' },
    { name: 'password', type: 'string', value: 'SECRET', help: 'its password (default: secret{n})' },
    varFlagSpec,
    // The same flags as `run`, from its list, for where to send from and where the reports go.
    ...runFlags.filter((s) => SHARED_WITH_RUN.includes(s.name)),
    ...faultFlagSpecs,
  ],
  handlesSignals: true,
  async run(args: ParsedArgs): Promise<number> {
    const f = args.flags;
    let signalName: StopSignal | undefined;
    interrupts.listen((sig) => {
      signalName = sig;
      process.stderr.write(`\nsipstorm: ${sig}: stopping (after the case that is running, if any), writing reports of what ran (again to quit at once)\n`);
    });
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'`);
    const dir = (f['suite-dir'] as string | undefined) ?? BUNDLED;
    const names = f.suite !== undefined ? String(f.suite).split(',').map((s) => s.trim()).filter(Boolean) : suiteNames(dir);
    if (!names.length) throw new UsageError(`no suites in ${dir}`);
    const suites: Suite[] = names.map((n) => loadSuite(dir, n));
    const answerMs = f['answer-wait'] !== undefined ? parseDuration(String(f['answer-wait'])) : 4000;
    if (answerMs === undefined || answerMs <= 0) throw new UsageError(`--answer-wait must be a time like 4s, got '${f['answer-wait']}'`);
    const faults = parseFaultFlags(f);
    const vars = parseVarFlags(f);
    checkReportFlags(f, { outDir: true });
    const domain = f.domain !== undefined ? domainFlag(String(f.domain)) : undefined;
    const quiet = Boolean(f.quiet);
    const log = (s: string) => {
      if (!quiet) process.stdout.write(s + '\n');
    };

    const transportFlag = f.transport !== undefined ? String(f.transport).toLowerCase() : undefined;
    if (transportFlag !== undefined && !['udp', 'tcp', 'tls', 'ws', 'wss'].includes(transportFlag)) throw new UsageError(`--transport must be udp, tcp, tls, ws or wss, got '${f.transport}'`);
    const tlsOpts = readTlsFlags(f);
    let server: SipServer | undefined;
    let target: Target;
    if (f.target !== undefined) {
      if (Object.keys(faults).length) throw new UsageError('--fault-* options apply to the embedded server only (no --target)');
      target = await resolveTarget(String(f.target));
      const named = /;\s*transport=|^\s*sips:|^\s*wss?:\/\//i.test(String(f.target));
      if (transportFlag !== undefined && transportFlag !== target.endpoint.protocol) {
        if (named) throw new UsageError(`--transport ${transportFlag}: the target ${target.uri} names ${target.endpoint.protocol}`);
        target = await resolveTarget(`${transportFlag === 'tls' ? 'sips' : 'sip'}:${target.hostText}:${target.endpoint.port}${transportFlag !== 'udp' && transportFlag !== 'tls' ? `;transport=${transportFlag}` : ''}`);
      }
      if (target.endpoint.protocol === 'tls' || target.endpoint.protocol === 'wss') {
        const probe = await probeTarget(target.endpoint, 500, tlsOpts);
        if (!probe.up) throw unusableTargetError(target, probe, tlsOpts);
      }
    } else {
      const protocol = (transportFlag ?? 'udp') as Protocol;
      if (protocol === 'tls') throw new UsageError('--transport tls needs --target: the embedded server has no certificate (start `sipstorm serve --transport udp,tcp,tls --tls-cert ... --tls-key ...` and aim at it)');
      if (protocol === 'wss') throw new UsageError('--transport wss needs --target: the embedded server has no certificate (start `sipstorm serve --transport udp,wss --tls-cert ... --tls-key ...` and aim at it)');
      // The reference server offers every algorithm the auth suite asks about, so that each of its cases applies.
      server = await startServer({ host: '127.0.0.1', port: 0, transports: [protocol], faults, algorithms: ['SHA-256', 'MD5'] });
      const ep = server.endpoints[0]!;
      target = await resolveTarget(`sip:${ep.host}:${ep.port}${protocol !== 'udp' ? `;transport=${protocol}` : ''}`);
    }
    const localHost = (f['local-host'] as string | undefined) ?? (isIPv6(target.endpoint.host) ? '::1' : '127.0.0.1');
    if ((f.user === undefined) !== (f.password === undefined)) throw new UsageError('--user and --password go together');
    const runner = await SuiteRunner.open({
      target: target.endpoint, targetHostText: target.hostText, localHost, answerMs, domain,
      user: f.user as string | undefined, password: f.password as string | undefined, vars,
      tls: target.endpoint.protocol === 'tls' || target.endpoint.protocol === 'wss' ? tlsOpts : undefined,
      ws: { path: target.path, ...readWsFlags(f, target) },
    });
    const startedAt = new Date();
    const results: ScenarioResult[] = [];
    const all: CaseResult[] = [];
    try {
      log(`sipstorm conform: ${suites.map((s) => `${s.name} (${s.cases.length})`).join(', ')} -> ${server ? 'embedded server at ' : ''}${target.uri}`);
      const up = await runner.alive();
      runner.takeCounts(); // the first OPTIONS only proves the target is there
      if (!up) {
        throw Object.assign(new Error(`target ${target.uri} does not answer OPTIONS; nothing else was sent`), { code: 'TARGET_DOWN', exitCode: EXIT.CANNOT_RUN });
      }
      await interrupts.holdForTest('start');
      for (const suite of suites) {
        if (signalName) break;
        const began = new Date();
        const cases: CaseResult[] = [];
        for (const c of suite.cases) {
          if (signalName) break;
          const r = await runner.run(suite.name, c);
          cases.push(r);
          const mark = r.problem ? (r.notRun ? '-' : '✗') : r.notApplicable ? 'n/a' : '✓';
          log(printable(`  ${mark} ${suite.name} ${caseLabel(r)}: ${r.status ?? 'no answer'}${r.problem ? ` — ${r.problem}` : r.notApplicable ? ` — not applicable: ${r.notApplicable}` : ''}`));
        }
        all.push(...cases);
        results.push(suiteResult(suite, cases, began, new Date(), runner.takeCounts(), localHost, target.uri));
      }
    } finally {
      await runner.close();
      await server?.close();
    }
    const result: RunResult = buildRunResult({
      scenarios: suites, results, startedAt, endedAt: new Date(), target, server: Boolean(server), workers: 1, overrides: {}, interrupted: false, workerErrors: [], kind: 'conform',
    });
    for (const b of checkBalance(result)) process.stderr.write(`sipstorm: counts do not balance (a sipstorm bug): ${b}\n`);
    applyVerdict(result);
    if (signalName) markInterrupted(result, signalName);
    const failedReports = (await writeFinalReports(result, f, () => signalName)).failed;
    if (!quiet) {
      const rows = bySection(all);
      const w = Math.max(...rows.map((r) => r.section.length), 7);
      log(`${'section'.padEnd(w)}  passed  failed  n/a  not run`);
      for (const r of rows) log(`${r.section.padEnd(w)}  ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${String(r.notApplicable).padStart(3)}  ${String(r.notRun).padStart(7)}`);
      if (runner.unexpected || runner.unparsable) log(`${runner.unexpected} unexpected and ${runner.unparsable} unparsable messages from the server`);
    }
    const summary = conformSummary(result).split('\n');
    process.stdout.write((quiet ? summary.slice(-1) : summary).join('\n') + '\n');
    return exitAfterReports(result.exitCode, failedReports);
  },
};

/**
 * `--domain example.com`, `--domain 127.0.0.1:5080`, `--domain [::1]:5080`: a host as a SIP URI writes it (RFC 3261
 * §25.1 hostport), so that it can stand in a Request-URI and a To as it is.
 */
function domainFlag(text: string): string {
  const value = text.trim();
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(value);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) || (m[1]!.startsWith('[') && !isIPv6(m[1]!.slice(1, -1)))) {
    throw new UsageError(`--domain must be a host or host:port as in a SIP URI (example.com, 127.0.0.1:5060, [::1]:5060), got '${text}'`);
  }
  return value;
}
