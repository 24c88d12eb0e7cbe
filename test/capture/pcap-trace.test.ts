// --pcap and --trace of a uac-call run, read back by tshark (Debian package
// tshark): the INVITEs in the capture are exactly the ones the result says
// were sent, retransmissions included (the embedded server answers late, so
// every INVITE is sent again at T1); every message dissects as SIP with no
// malformed packet and no expert warning; the trace holds the same messages;
// over TCP too, with the handshake tshark needs to reassemble.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { BROKEN, tsharkAvailable, tsharkField, tsharkFrames } from '../support/tshark.js';
import { startServer } from '../../engine/server/index.js';

const missing = !tsharkAvailable();
const skip = missing && process.env.CI !== 'true' && 'tshark not installed';

interface Step {
  name: string;
  sent: number;
}

/** INVITEs the result says went out: the INVITE step's sends and the INVITE retransmissions. */
function invitesSent(result: { scenarios: { roles: { steps: Step[] }[]; transport: { requestRetransmissions?: Record<string, number> } }[] }): { sent: number; retransmitted: number } {
  const s = result.scenarios[0]!;
  const sent = s.roles.flatMap((r) => r.steps).filter((st) => st.name === 'INVITE').reduce((a, st) => a + st.sent, 0);
  return { sent, retransmitted: s.transport.requestRetransmissions?.INVITE ?? 0 };
}

/** Messages of the trace, by their first line. */
function traceFirstLines(text: string): string[] {
  return [...text.matchAll(/^(?:UDP|TCP|TLS) message (?:sent|received), \d+ bytes, [^\n]+\n\n([^\r\n]+)/gm)].map((m) => m[1]!);
}

t.test('--pcap and --trace of uac-call over UDP, the server answering late (INVITEs retransmitted)', { skip }, async (t) => {
  if (missing) return t.fail('tshark is needed (CI=true)');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = join(dir, 'run.pcapng');
  const trace = join(dir, 'run.txt');
  // 1.2 s before any answer: past T1 (500 ms), each INVITE and BYE is sent again at least once.
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '6', '--rate', '20', '--workers', '2', '--fault-delay', '1200', '--pcap', pcap, '--trace', trace]);
  t.equal(r.status, 0, r.out.slice(-2000));
  const { sent, retransmitted } = invitesSent(r.result);
  t.equal(sent, 6, 'six INVITE steps sent');
  t.ok(retransmitted >= 6, `the INVITEs were retransmitted (${retransmitted} times)`);

  const invites = tsharkFrames(pcap, 'sip.Method == "INVITE"');
  t.equal(invites.length, sent + retransmitted, `tshark counts ${invites.length} INVITEs: the ${sent} sent and ${retransmitted} retransmissions`);
  t.same(tsharkFrames(pcap, BROKEN), [], 'no malformed packet, no expert warning');
  const captured = r.result.captures.find((c: { kind: string }) => c.kind === 'pcap');
  t.equal(tsharkFrames(pcap, 'sip').length, captured.messages, 'every message in the capture dissects as SIP');
  t.equal(tsharkFrames(pcap, '!sip').length, 0, 'and nothing else is in it');
  t.same(tsharkField(pcap, 'sip.Method == "INVITE"', 'udp.srcport').filter((p) => Number(p) > 0).length, invites.length, 'UDP with real ports');
  t.match(captured, { truncated: false, notWritten: 0 });

  const text = readFileSync(trace, 'latin1');
  const lines = traceFirstLines(text);
  t.equal(lines.filter((l) => l.startsWith('INVITE ')).length, sent + retransmitted, 'the trace holds every INVITE, retransmissions included');
  t.equal(lines.length, captured.messages, 'the trace and the capture hold the same messages');
  const traced = r.result.captures.find((c: { kind: string }) => c.kind === 'trace');
  t.equal(traced.messages, captured.messages);
  t.match(text, /^UDP message sent, \d+ bytes, 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/m, 'direction, transport and both addresses');
  t.match(text, /end of trace: \d+ messages\n$/, 'a whole trace says so at its end');
  // The trace is in time order across the two workers.
  const times = [...text.matchAll(/^-{40} (\S+)$/gm)].map((m) => Date.parse(m[1]!.replace(/(\.\d{3})\d+Z$/, '$1Z')));
  t.same(times, [...times].sort((a, b) => a - b), 'messages in time order');
});

t.test('--pcap over TCP: a handshake per connection, segments tshark reassembles, every INVITE counted', { skip }, async (t) => {
  if (missing) return t.fail('tshark is needed (CI=true)');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-'));
  const server = await startServer({ host: '127.0.0.1', port: 0, transports: ['tcp'] });
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoints[0]!;
  const pcap = join(dir, 'tcp.pcapng');
  const trace = join(dir, 'tcp.txt');
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '6', '--rate', '20', '--workers', '2', '--target', `sip:${ep.host}:${ep.port};transport=tcp`, '--pcap', pcap, '--trace', trace]);
  t.equal(r.status, 0, r.out.slice(-2000));
  const { sent, retransmitted } = invitesSent(r.result);
  t.equal(retransmitted, 0, 'no retransmission over TCP');
  t.equal(tsharkFrames(pcap, 'sip.Method == "INVITE"').length, sent, `tshark counts the ${sent} INVITEs sent`);
  t.same(tsharkFrames(pcap, BROKEN), [], 'no malformed packet, no expert warning');
  const captured = r.result.captures.find((c: { kind: string }) => c.kind === 'pcap');
  t.equal(tsharkFrames(pcap, 'sip').length, captured.messages, 'every message dissects as SIP');
  const syns = tsharkFrames(pcap, 'tcp.flags.syn == 1 && tcp.flags.ack == 0');
  t.ok(syns.length >= 2, `a handshake per connection (${syns.length}: one per worker)`);
  t.equal(tsharkFrames(pcap, 'tcp.analysis.flags').length, 0, 'no TCP analysis flag: sequence numbers are consistent');
  t.equal(traceFirstLines(readFileSync(trace, 'latin1')).length, captured.messages, 'the trace holds the same messages');
  t.match(readFileSync(trace, 'latin1'), /^TCP message sent, \d+ bytes, 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/m);
});

t.test('the size cap: the files and the result say how much is missing', { skip }, async (t) => {
  if (missing) return t.fail('tshark is needed (CI=true)');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-capture-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pcap = join(dir, 'cut.pcapng');
  const trace = join(dir, 'cut.txt');
  const r = await runCli(['run', 'scenarios/uac-call.yaml', '--total', '10', '--rate', '20', '--workers', '2', '--pcap', pcap, '--trace', trace, '--trace-max-bytes', '4K', '--pcap-max-bytes', '6K']);
  t.equal(r.status, 0, r.out.slice(-2000));
  const [tr, pc] = ['trace', 'pcap'].map((k) => r.result.captures.find((c: { kind: string }) => c.kind === k));
  for (const c of [tr, pc]) {
    t.equal(c.truncated, true, `${c.kind} cut`);
    t.ok(c.bytes <= c.maxBytes, `${c.kind}: ${c.bytes} bytes within ${c.maxBytes}`);
    t.ok(c.messages > 0 && c.notWritten > 0, `${c.kind}: ${c.messages} written, ${c.notWritten} not`);
    t.match(r.stderr, new RegExp(`--${c.kind} \\S+: cut at ${c.maxBytes} bytes, ${c.notWritten} messages not written`));
  }
  // Every message went through one tap: what each file holds and misses adds up to the same total.
  t.equal(tr.messages + tr.notWritten, pc.messages + pc.notWritten, 'written + not written balance across the two files');
  t.match(readFileSync(trace, 'latin1'), new RegExp(`TRACE TRUNCATED at --trace-max-bytes 4096: ${tr.messages} messages written, ${tr.notWritten} not written\\n$`));
  t.equal(tsharkFrames(pcap, 'sip').length, pc.messages, 'the cut capture still reads');
  const comment = tsharkField(pcap, 'frame.number == 1', 'frame.comment');
  const capinfo = readFileSync(pcap).subarray(0, 300).toString('latin1');
  t.match(capinfo, new RegExp(`sipstorm --pcap: TRUNCATED at --pcap-max-bytes 6144: ${pc.messages} messages written, ${pc.notWritten} not written`), 'the section comment says it');
  t.same(comment.length, 0, 'packets carry no comment over UDP');
});
