// `sipstorm run`: loads and checks every scenario first (bad input exits 2
// before any traffic), starts the embedded server when no --target is given,
// runs each scenario's roles on N workers, prints progress and the summary,
// writes the reports, and turns the verdict into the exit code.

import { hostname, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { numberFlag, UsageError, type FlagSpec, type ParsedArgs } from '../args.js';
import type { Command } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { faultFlagSpecs, limitFlagSpecs, parseFaultFlags, parseLimitFlags } from '../fault-flags.js';
import { toolVersion } from '../version.js';
import { readTlsFlags, unusableTargetError } from '../tls-flags.js';
import { readWsFlags, wsFlagSpecs, type WsFlags } from '../ws-flags.js';
import { checkFlagThresholds, scenarioThresholds } from '../scenario-thresholds.js';
import { parseVarFlags, unusedVarWarnings, varFlagSpec } from '../var-flags.js';
import { loadRunScenarios, trafficFlagSpecs } from '../traffic-flags.js';
import { parseDuration, scenarioDigest } from '../../engine/scenario/index.js';
import { hostText } from '../../engine/codec/index.js';
import type { SipServer } from '../../engine/server/index.js';
import { applyKdcFlag, checkTargetLogins, dropUnservable, embeddedLogins, kdcFlagSpec, type EmbeddedLogins } from '../logins.js';
import { probeTarget, resolveTarget, type Target } from '../../engine/transport/index.js';
import { runLoad, workersByLoad, WORKER_TRANSACTIONS_PER_SECOND, type LoadOverrides } from '../../engine/load/index.js';
import {
  applyVerdict, checkBalance, conformanceOf, evaluateThresholds, formatMeasured, parseThreshold, runMediaOf, scenarioResult, totalsOf,
  type RunResult, type ScenarioResult, type Threshold,
} from '../../engine/metrics/index.js';
import type { Credentials } from '../../engine/ua/index.js';
import { ProgressPrinter, runSummary } from '../../reporters/console.js';
import { printable } from '../../reporters/format.js';
import { writeJson } from '../../reporters/json.js';
import { interrupts, type StopSignal } from '../interrupts.js';
import { markInterrupted } from '../interrupted-result.js';
import { checkListenScenarios, listenFlagSpec, parseListenFlag } from '../listen-flag.js';
import { checkReportFlags, exitAfterReports, writeReportFiles, type ReportFile } from '../report-output.js';
import { liveFlagSpecs, parseLiveFlags } from '../live-flags.js';
import { startLive } from '../../live/endpoints.js';
import { captureFlagSpecs, readCaptureFlags } from '../capture-flags.js';

/** Above these, --i-know-what-i-am-doing is needed: a typo must not flood a server. */
const MAX_RATE = 5000;
const MAX_USERS = 200_000;

export const runFlags: FlagSpec[] = [
  { name: 'target', short: 't', type: 'string', value: 'URI', help: 'server under test: sip:HOST:PORT[;transport=tcp|tls|ws|wss], sips:HOST, HOST:PORT, ws://HOST:PORT/PATH or wss://... (default: the embedded server)' },
  { name: 'rate', short: 'r', type: 'string', value: 'N', help: 'new scenario instances per second (open model)' },
  { name: 'total', short: 'm', type: 'string', value: 'N', help: 'stop after N instances' },
  { name: 'duration', short: 'd', type: 'string', value: 'TIME', help: 'stop starting instances after TIME (e.g. 30s, 5m)' },
  { name: 'users', type: 'string', value: 'N', help: 'number of simulated UAs' },
  { name: 'max-concurrent', type: 'string', value: 'N', help: 'cap on instances of each role running at once in the whole run, all workers together (open model)' },
  { name: 'graceful-stop', type: 'string', value: 'TIME', help: "after the load ends, stop instances still running this much later, counted as failed 'stopped' (default 30s)" },
  { name: 'user', type: 'string', value: 'PATTERN', help: "user name pattern over the UA index, e.g. 'user{n}'" },
  { name: 'password', type: 'string', value: 'PATTERN', help: "password pattern, e.g. 'secret{n}' (prefer --password-env)" },
  { name: 'password-env', type: 'string', value: 'NAME', help: 'read the password from environment variable NAME' },
  { name: 'users-csv', type: 'string', value: 'FILE', help: 'CSV of user,password[,domain,...] (header line required); every column is a variable ${column}' },
  varFlagSpec,
  { name: 'workers', short: 'w', type: 'string', value: 'N', help: `worker threads (default: by load, one per ${WORKER_TRANSACTIONS_PER_SECOND.toLocaleString('en-US')} transactions/s of peak rate, up to the ${availableParallelism()} cores here; a closed model takes them all)` },
  kdcFlagSpec,
  { name: 'tls-insecure', type: 'boolean', help: 'TLS: do not check the server certificate (staging servers with self-signed certificates)' },
  { name: 'tls-ca', type: 'string', value: 'FILE', help: 'TLS: trust this CA certificate (PEM) as well' },
  { name: 'local-host', type: 'string', value: 'ADDR', help: 'local address to send from (default 127.0.0.1, or ::1 for an IPv6 target)' },
  { name: 'threshold', type: 'list', value: 'EXPR', help: "pass/fail threshold, repeatable, e.g. 'step.REGISTER.p99 < 200ms'" },
  { name: 'shard', type: 'string', value: 'I/N', help: 'run the I-th of N shares of the load (1 <= I <= N); merge the results with sipstorm merge' },
  { name: 'run-id', type: 'string', value: 'ID', help: 'an id the shards of one run share (e.g. the CI pipeline id); merge refuses shards of different run ids' },
  { name: 'wait-for-target', type: 'string', value: 'TIME', help: 'if the target is down at start, keep trying for TIME (e.g. 30s) instead of exiting 3' },
  { name: 'stop-on-failure', type: 'boolean', help: 'stop at the first failed instance' },
  listenFlagSpec,
  { name: 'socket-per-ua', type: 'boolean', help: "one socket (source port) per simulated UA, kept for the run, instead of one per worker (SIPp's -t un)" },
  { name: 'no-warm-up', type: 'boolean', help: 'start measuring with cold code: no warm-up against a loopback answerer before the start (a worker at 500 transactions/s or more warms up)' },
  { name: 'no-checks', type: 'boolean', help: 'do not check received messages against the conformance catalog (to measure what the checks cost)' },
  { name: 'restart-workers', type: 'boolean', help: 'replace a worker that crashes mid-run (up to 3 times each) instead of ending the run' },
  { name: 'out', short: 'o', type: 'string', value: 'DIR', help: 'directory for result.json, junit.xml and report.html (default reports/)' },
  { name: 'json', type: 'string', value: 'FILE', help: 'also write the JSON result here' },
  { name: 'junit', type: 'string', value: 'FILE', help: 'also write JUnit XML here' },
  { name: 'html', type: 'string', value: 'FILE', help: 'also write the HTML report here' },
  { name: 'no-reports', type: 'boolean', help: 'write no report files' },
  { name: 'i-know-what-i-am-doing', type: 'boolean', help: `allow rates above ${MAX_RATE}/s and more than ${MAX_USERS} users` },
  { name: 'quiet', short: 'q', type: 'boolean', help: 'print nothing but the verdict line and errors' },
  ...liveFlagSpecs,
  ...captureFlagSpecs,
  ...trafficFlagSpecs,
  ...limitFlagSpecs,
  ...wsFlagSpecs,
  ...faultFlagSpecs,
];

export interface RunSettings {
  paths: string[];
  overrides: LoadOverrides;
  credentials: Credentials;
  workers: number;
  thresholds: Threshold[];
}

function positiveNumber(f: ParsedArgs['flags'], name: string, integer: boolean): number | undefined {
  const v = numberFlag(f, name, { integer });
  if (v !== undefined && v <= 0) throw new UsageError(`--${name} must be more than 0, got '${f[name]}'`);
  return v;
}

export function readOverrides(f: ParsedArgs['flags']): { overrides: LoadOverrides; credentials: Credentials } {
  const overrides: LoadOverrides = {};
  const rate = positiveNumber(f, 'rate', false);
  if (rate !== undefined) overrides.rate = rate;
  const total = positiveNumber(f, 'total', true);
  if (total !== undefined) overrides.total = total;
  const users = positiveNumber(f, 'users', true);
  if (users !== undefined) overrides.users = users;
  const cap = positiveNumber(f, 'max-concurrent', true);
  if (cap !== undefined) overrides.maxConcurrent = cap;
  if (f.duration !== undefined) {
    const d = parseDuration(String(f.duration));
    if (d === undefined || d <= 0) throw new UsageError(`--duration must be a time like 30s or 5m, got '${f.duration}'`);
    overrides.durationMs = d;
  }
  if (f['graceful-stop'] !== undefined) {
    const d = parseDuration(String(f['graceful-stop']));
    if (d === undefined || d < 0) throw new UsageError(`--graceful-stop must be a time like 30s or 0s, got '${f['graceful-stop']}'`);
    overrides.gracefulStopMs = d;
  }
  if (!f['i-know-what-i-am-doing']) {
    if ((overrides.rate ?? 0) > MAX_RATE) throw new UsageError(`--rate ${overrides.rate} is above the safety ceiling of ${MAX_RATE}/s; add --i-know-what-i-am-doing if you mean it`);
    if ((overrides.users ?? 0) > MAX_USERS) throw new UsageError(`--users ${overrides.users} is above the safety ceiling of ${MAX_USERS}; add --i-know-what-i-am-doing if you mean it`);
  }
  const credentials: Credentials = {};
  if (f.user !== undefined) credentials.user = String(f.user);
  if (f.password !== undefined) credentials.password = String(f.password);
  if (f['password-env'] !== undefined) {
    const name = String(f['password-env']);
    const v = process.env[name];
    if (v === undefined || v === '') throw new UsageError(`--password-env: environment variable ${name} is not set`);
    credentials.password = v;
  }
  if (f['users-csv'] !== undefined) credentials.usersCsv = String(f['users-csv']);
  return { overrides, credentials };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run scenarios (files or directories) against a target or the embedded server',
  usage: 'sipstorm run SCENARIO.yaml|DIR... [--target sip:HOST:PORT] [--rate N] [--total N] [--duration 30s] [options]',
  details: 'Without --target, the embedded server (sipstorm serve) is started in-process on a free loopback port.\nReports land in --out (default reports/): result.json, junit.xml and report.html; the end of the run says where they went.',
  flags: runFlags,
  handlesSignals: true,
  async run(args: ParsedArgs): Promise<number> {
    const f = args.flags;
    const abort = new AbortController();
    let signalName: StopSignal | undefined;
    /** Ends the live endpoints' linger after the reports (any signal; an abortOnFail stop does not). */
    const lingerStop = new AbortController();
    let lingering = false;
    // Taken from the start: a signal while loading or starting ends the run before any traffic, with its reports.
    interrupts.listen((sig) => {
      if (lingering && !lingerStop.signal.aborted) {
        lingerStop.abort();
        process.stderr.write(`\nsipstorm: ${sig}: the reports are written; ending --metrics-linger\n`);
        return;
      }
      lingerStop.abort();
      signalName = sig;
      process.stderr.write(`\nsipstorm: ${sig}: stopping, writing reports of what ran (again to quit at once)\n`);
      abort.abort();
    });
    if (args.positionals.length === 0) throw new UsageError('no scenario given: sipstorm run SCENARIO.yaml|DIR...');
    const { overrides: given, credentials } = readOverrides(f);
    const listen = parseListenFlag(f);
    const fixedWorkers = listen ? 1 : positiveNumber(f, 'workers', true);
    let shard = { index: 0, count: 1 };
    if (f.shard !== undefined) {
      const m = /^(\d+)\/(\d+)$/.exec(String(f.shard));
      if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard must be I/N with 1 <= I <= N, got '${f.shard}'`);
      shard = { index: Number(m[1]) - 1, count: Number(m[2]) };
    }
    const runId = readRunId(f);
    const faults = parseFaultFlags(f);
    const limits = parseLimitFlags(f);
    const cliThresholds = ((f.threshold as string[] | undefined) ?? []).map((e) => parseThreshold(e, '--threshold'));
    // Everything is checked before any traffic, thresholds' step and role names included;
    // the users CSV first, as its columns are variables of the scenarios.
    if (credentials.usersCsv) {
      const { csvIdentities } = await import('../../engine/ua/index.js');
      csvIdentities(credentials.usersCsv, credentials.password);
    }
    const vars = parseVarFlags(f);
    // A mix (FILE:WEIGHT ...) is one scenario of several roles; its rate and total are in them, not in `overrides`.
    const { scenarios, overrides, seed, mix } = loadRunScenarios(args.positionals, f, given, { vars, usersCsv: credentials.usersCsv }, f['i-know-what-i-am-doing'] ? Infinity : MAX_RATE);
    await applyKdcFlag(f, scenarios);
    dropUnservable(scenarios, (s) => !(f.target ?? s.target), (line) => process.stderr.write(line + '\n'));
    if (scenarios.length === 0) throw Object.assign(new Error('no scenario left to run'), { code: 'NOTHING_TO_RUN', exitCode: EXIT.CANNOT_RUN });
    const workers = fixedWorkers ?? workersByLoad(scenarios, overrides, availableParallelism());
    for (const w of unusedVarWarnings(vars, scenarios)) process.stderr.write(`${w}\n`);
    if (listen) checkListenScenarios(scenarios);
    checkFlagThresholds(cliThresholds, scenarios);
    const thresholds = [...cliThresholds, ...scenarios.flatMap(scenarioThresholds)];
    // What the shards of one run share; the password is left out of it (a secret, and not the run's shape).
    const digest = scenarioDigest(scenarios, { ...overrides, credentials: { ...credentials, password: undefined } });
    const abortThresholds = thresholds.filter((th) => th.abortOnFail);
    let abortedBy: string | undefined;
    const tls = readTlsFlags(f);
    checkReportFlags(f, { outDir: true });
    const liveOptions = parseLiveFlags(f);
    const capture = await readCaptureFlags(f);
    const quiet = Boolean(f.quiet);
    const log = (s: string) => {
      if (!quiet) process.stdout.write(s + '\n');
    };

    let server: SipServer | undefined;
    let logins: EmbeddedLogins | undefined;
    let target: Target;
    let ws: WsFlags;
    const targetText = (f.target as string | undefined) ?? scenarios.find((s) => s.target)?.target;
    if (listen) {
      // The callers come to us: the "target" is our own address (its templates name the caller, message-steps.ts).
      target = await resolveTarget(`sip:${hostText(listen.host)}:${listen.port}`);
      ws = readWsFlags(f, target);
    } else if (targetText) {
      target = await resolveTarget(targetText);
      checkTargetLogins(scenarios);
      ws = readWsFlags(f, target);
      if (Object.keys(faults).length) throw new UsageError('--fault-* options apply to the embedded server only (no --target)');
      const waitMs = f['wait-for-target'] !== undefined ? parseDuration(String(f['wait-for-target'])) : 0;
      if (waitMs === undefined) throw new UsageError(`--wait-for-target must be a time like 30s, got '${f['wait-for-target']}'`);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const probe = await probeTarget(target.endpoint, 500, tls);
        if (probe.up || abort.signal.aborted) break;
        if (probe.fatal) throw unusableTargetError(target, probe, tls);
        if (Date.now() >= deadline) {
          throw Object.assign(new Error(`target ${target.uri} is not reachable (${probe.reason}); nothing was sent. Use --wait-for-target TIME to wait for it`), { code: 'TARGET_DOWN', exitCode: EXIT.CANNOT_RUN });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    } else {
      logins = await embeddedLogins(scenarios, log);
      // Loaded only here: a run with a --target needs no server.
      const { startServer } = await import('../../engine/server/index.js');
      server = await startServer({ host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'], faults, limits, logins: logins.server });
      const ep = server.endpoints[0]!;
      target = await resolveTarget(`sip:${ep.host}:${ep.port}`);
      ws = readWsFlags(f, target);
    }
    const localHost = listen?.host ?? (f['local-host'] as string | undefined) ?? (target.endpoint.host.includes(':') ? '::1' : '127.0.0.1');
    if (seed !== undefined) log(`seed ${seed} (the same --seed ${seed} replays its arrivals and pauses)`);
    log(`sipstorm ${toolVersion()}: ${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'} ${listen ? '<- callers at' : '->'} ${server ? 'embedded server at ' : ''}${target.uri} (${target.endpoint.protocol}), ${workers} worker${workers === 1 ? '' : 's'}`);

    const live = await startLive(liveOptions, { version: toolVersion(), shard: `${shard.index + 1}/${shard.count}`, runId }).catch(async (err: unknown) => {
      await server?.close();
      throw err;
    });
    for (const url of live?.urls ?? []) log(url);

    await interrupts.holdForTest('start');

    const startedAt = new Date();
    const results: ScenarioResult[] = [];
    const workerErrors: RunResult['workerErrors'] = [];
    const progress = new ProgressPrinter(process.stdout, quiet);
    try {
      for (const scenario of scenarios) {
        if (abort.signal.aborted) break;
        live?.run.begin(scenario, overrides.rate ?? scenario.roles[0]?.load.rate);
        const run = await runLoad({
          scenario, target, localHost, workers, overrides, credentials, signal: abort.signal, shard,
          stopOnFirstFailure: Boolean(f['stop-on-failure']),
          restartWorkers: Boolean(f['restart-workers']),
          checks: !f['no-checks'],
          warmUp: !f['no-warm-up'],
          socketPerUa: Boolean(f['socket-per-ua']),
          listenPort: listen?.port,
          capture: capture?.worker(),
          tls: { insecure: !tls.rejectUnauthorized, caFile: tls.caFile },
          ws,
          limits,
          // A test knob, like SIPSTORM_FAULT_WORKER_*: how long a silent worker is given (default 10 s).
          watchdogMs: Number(process.env.SIPSTORM_WORKER_WATCHDOG_MS) || undefined,
          onWorkerFailure: (wf) => {
            progress.end();
            process.stderr.write(`sipstorm: worker ${wf.worker} failed: ${printable(wf.code)}: ${printable(wf.message)}\n`);
          },
          onProgress: (snap, elapsed, point, steps) => {
            live?.run.second(snap, point, steps);
            if (abortThresholds.length && !abortedBy) {
              // abortOnFail: evaluate on the live numbers of the run so far.
              const now = new Date();
              const partial = buildRunResult({ scenarios, results: [...results, scenarioResult(scenario.name, scenario.file, snap, new Date(now.getTime() - elapsed), now, [])], startedAt, endedAt: now, target, server: Boolean(server), workers, overrides, interrupted: false, workerErrors: [], scenarioDigest: digest });
              for (const v of evaluateThresholds(abortThresholds.filter((th) => elapsed >= (th.delayAbortMs ?? 0)), partial)) {
                if (!v.ok && v.value !== null) {
                  abortedBy = `${v.expr} (got ${formatMeasured(v.value, v.unit)})`;
                  process.stderr.write(`\nsipstorm: threshold ${abortedBy} failed: stopping the run (abortOnFail)\n`);
                  abort.abort();
                  break;
                }
              }
            }
            const started = snap.roles.reduce((a, r) => a + r.started, 0);
            progress.update(scenario.name, elapsed, {
              started, passed: snap.roles.reduce((a, r) => a + r.passed, 0), failed: snap.roles.reduce((a, r) => a + r.failed, 0),
              // That second's numbers: instances started in it (not the average since the start), running at its end.
              active: point.active, rate: point.rate,
              ...(point.p99 > 0 ? { p50: point.p50, p99: point.p99 } : {}), // the first step's latency in that second
              asked: given.rate ?? scenario.roles[0]?.load.rate, retrans: snap.transport.retransmissionsSent,
            });
          },
        });
        progress.end();
        live?.run.end(run.snapshot, run.timeseries, run.stepSeries);
        workerErrors.push(...run.workerErrors);
        const sr = scenarioResult(scenario.name, scenario.file, run.snapshot, run.startedAt, run.endedAt, run.timeseries, run.stepSeries);
        results.push(sr);
        if (run.interrupted) break;
      }
    } catch (err) {
      await live?.close();
      capture?.discard();
      throw err;
    } finally {
      if (server) {
        const st = server.stats();
        const parse = Object.values(st.parseErrors).reduce((a, b) => a + b, 0);
        log(`embedded server: ${st.distinctRegistered} distinct AORs registered, ${st.callsAnswered} calls answered, ${st.notifiesSent} NOTIFYs sent, ${parse} unparsable messages`);
      }
      await server?.close();
      await logins?.stop();
    }
    const endedAt = new Date();
    const result = buildRunResult({
      scenarios, results, startedAt, endedAt, target, server: Boolean(server), workers, overrides, interrupted: Boolean(signalName), workerErrors, shard, runId,
      scenarioDigest: digest, seed, mix,
    });
    if (abortedBy) result.abortedBy = abortedBy;
    let captureFailed = 0;
    if (capture) {
      try {
        result.captures = capture.finish();
        for (const c of result.captures) if (c.truncated) process.stderr.write(`sipstorm: --${c.kind} ${c.file}: cut at ${c.maxBytes} bytes, ${c.notWritten} messages not written (raise --${c.kind === 'pcap' ? 'pcap' : 'trace'}-max-bytes)\n`);
      } catch (err) {
        captureFailed++;
        process.stderr.write(`sipstorm: the trace/capture files could not be written: ${printable((err as Error).message)}\n`);
      }
    }
    if (signalName === 'SIGINT' || signalName === 'SIGTERM') result.signal = signalName;
    result.thresholds = evaluateThresholds(thresholds, result);
    for (const b of checkBalance(result)) process.stderr.write(`sipstorm: counts do not balance (a sipstorm bug): ${b}\n`);
    applyVerdict(result);
    const reports = await writeFinalReports(result, f, () => signalName);
    const summary = runSummary(result).split('\n');
    const verdict = summary.pop()!;
    // Where the reports went, just above the verdict line (which stays last: CI greps it, --quiet prints it alone).
    if (!quiet) process.stdout.write([...summary, reports.written.length ? `reports: ${reports.written.join(', ')}` : 'reports: none written (--no-reports)', ''].join('\n'));
    process.stdout.write(verdict + '\n');
    // Up until the reports are written, then --metrics-linger more: the last scrape sees the end.
    const html = live && (await import('../../reporters/html.js'));
    lingering = live !== undefined;
    await live?.finish(() => html!.renderHtml(result), lingerStop.signal);
    return exitAfterReports(result.exitCode, reports.failed + captureFailed);
  },
};

/** --run-id: printable, at most 200 characters (it lands in reports and error lines). */
export function readRunId(f: ParsedArgs['flags']): string | null {
  if (f['run-id'] === undefined) return null;
  const id = String(f['run-id']);
  if (id === '' || id.length > 200 || !/^[\x21-\x7e]+$/.test(id)) {
    throw new UsageError(`--run-id must be 1 to 200 printable characters without spaces, got '${id.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}'`);
  }
  return id;
}

export function buildRunResult(o: {
  scenarios: { file: string }[];
  results: ScenarioResult[];
  startedAt: Date;
  endedAt: Date;
  target: Target;
  server: boolean;
  workers: number;
  overrides: LoadOverrides;
  interrupted: boolean;
  workerErrors: RunResult['workerErrors'];
  shard?: { index: number; count: number };
  kind?: RunResult['kind'];
  runId?: string | null;
  /** Default: the digest of o.scenarios alone. */
  scenarioDigest?: string;
  /** The seed of the run's random draws (traffic-flags.ts), when any. */
  seed?: number;
  /** The scenario files of a mix and their weights. */
  mix?: { file: string; weight: number }[];
}): RunResult {
  const totals = totalsOf(o.results);
  return {
    totals: { ...totals, verdict: 'passed' },
    kind: o.kind ?? 'run',
    tool: { name: 'sipstorm', version: toolVersion() },
    settings: {
      target: o.target.uri, embeddedServer: o.server, scenarios: o.scenarios.map((s) => s.file), workers: o.workers,
      shard: o.shard ?? { index: 0, count: 1 }, runId: o.runId ?? null, scenarioDigest: o.scenarioDigest ?? scenarioDigest(o.scenarios),
      overrides: { ...o.overrides },
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.mix ? { mix: o.mix } : {}),
    },
    machine: { hostname: hostname(), cpus: cpus().length, node: process.version, platform: process.platform },
    startedAt: o.startedAt.toISOString(),
    endedAt: o.endedAt.toISOString(),
    durationMs: o.endedAt.getTime() - o.startedAt.getTime(),
    interrupted: o.interrupted,
    exitCode: 0,
    scenarios: o.results,
    thresholds: [],
    conformance: conformanceOf(o.results),
    workerErrors: o.workerErrors,
    failures: o.results.flatMap((r) => r.failures).slice(0, 20),
    ...(runMediaOf(o.results) ? { media: runMediaOf(o.results)! } : {}),
  };
}

/**
 * Writes the reports of a finished run or conform; a signal that comes while they are written (once the result was
 * built) marks the result interrupted and writes them again, so that no report of an interrupted run says it passed.
 */
export async function writeFinalReports(result: RunResult, f: ParsedArgs['flags'], signal: () => StopSignal | undefined): Promise<{ written: string[]; failed: number }> {
  const reports = await writeReports(result, f);
  await interrupts.holdForTest('reports');
  await interrupts.settle();
  const late = signal();
  if (!late || result.interrupted) return reports;
  markInterrupted(result, late);
  return await writeReports(result, f);
}

/** Writes every report the flags ask for; one that fails is named on stderr and the others are still written. Returns the paths written and how many failed. */
export async function writeReports(result: RunResult, f: ParsedArgs['flags']): Promise<{ written: string[]; failed: number }> {
  const files: ReportFile[] = [];
  // The HTML (with its charts) and JUnit reporters are loaded only when their report is written.
  const html = !f['no-reports'] || f.html ? await import('../../reporters/html.js') : undefined;
  const junit = !f['no-reports'] || f.junit ? await import('../../reporters/junit.js') : undefined;
  const add = (path: string, write: (path: string, result: RunResult) => void) => files.push({ path, write: (p) => write(p, result) });
  if (!f['no-reports']) {
    const dir = String(f.out ?? 'reports');
    add(join(dir, 'result.json'), writeJson);
    add(join(dir, 'junit.xml'), junit!.writeJunit);
    add(join(dir, 'report.html'), html!.writeHtml);
  }
  if (f.html) add(String(f.html), html!.writeHtml);
  if (f.json) add(String(f.json), writeJson);
  if (f.junit) add(String(f.junit), junit!.writeJunit);
  return writeReportFiles(files);
}
