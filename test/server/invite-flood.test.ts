// An INVITE flood against a real `sipstorm serve` child process: 100,000
// INVITEs to the built-in user `service`, each with its own Call-ID, none ever
// ACKed, sent over UDP at a bounded rate. The server must still answer OPTIONS
// afterwards, with its resident memory within 20% of where it started.
//
// "Where it started" is the RSS after a warm-up of the same traffic (enough
// INVITEs to fill the call cap and then be refused): V8 sizes its heap and
// compiles the hot paths in the first seconds of load, which is start-up cost,
// not a leak. RSS is VmRSS of /proc/PID/status. Before the server ended
// unACKed calls (each kept an hour), 120,000 INVITEs took it to 855 MB.
//
// The server runs with --max-calls 2000 so that the warm-up fills the cap in
// seconds; at the default 10,000 the calls themselves hold about 65 MB more
// (docs/server.md), a plateau as flat, reached later.
//
// The server's heap is capped (HEAP_CAP_MB), as a memory-bound deployment would be.
//
// Pacing: at most WINDOW INVITEs wait for their final answer at once, and at most
// RATE are sent per second, so a slow (busy) machine slows the test down
// instead of making the kernel drop datagrams; an INVITE with no final answer
// after a second is sent again, as a UAC's Timer A would.

import t from 'tap';
import dgram from 'node:dgram';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT } from '../support/cli.js';

const FLOOD = 100_000;
const WARM_UP = 20_000;
const MAX_CALLS = 2_000;
const WINDOW = 200;
const RATE = 10_000;
/**
 * serve runs with its old generation capped: a server that kept what the flood gave it would die of it (the issue's
 * report: 60,000 INVITEs killed a server with a 200 MB heap), and V8 collects before it grows its heap, so the RSS
 * read is the server's need rather than how far a collector starved of CPU on a busy machine let the heap grow
 * (uncapped, a run under `stress-ng --cpu 2` read 137 -> 207 MB).
 */
const HEAP_CAP_MB = 64;

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

async function startServe(t: { teardown(fn: () => unknown): void }): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_CAP_MB}`, 'dist/cli/main.js', 'serve', '--port', '0', '--transport', 'udp', '--max-calls', String(MAX_CALLS)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on udp 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
  return { child, port };
}

class Flooder {
  readonly socket = dgram.createSocket('udp4');
  private waiting = new Map<string, { data: Buffer; sentAt: number }>();
  private next = 0;
  finals = new Map<number, number>();
  private onFinal: (() => void) | undefined;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.socket.setRecvBufferSize(8 * 1024 * 1024);
    this.socket.on('message', (d) => {
      const status = Number(d.toString('latin1', 8, 11));
      if (!(status >= 200)) return;
      const m = /\r\nCall-ID: *([^\r\n]+)/i.exec(d.toString('latin1'));
      if (!m || !this.waiting.delete(m[1]!)) return; // a retransmitted 2xx of a call already counted
      this.finals.set(status, (this.finals.get(status) ?? 0) + 1);
      this.onFinal?.();
    });
  }

  private invite(i: number): { callId: string; data: Buffer } {
    const callId = `flood-${i}-${process.pid}@test`;
    const lport = this.socket.address().port;
    const text =
      `INVITE sip:service@127.0.0.1:${this.port} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK-flood-${i};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:flood@127.0.0.1>;tag=f${i}\r\nTo: <sip:service@127.0.0.1>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 1 INVITE\r\nContact: <sip:flood@127.0.0.1:${lport}>\r\nContent-Length: 0\r\n\r\n`;
    return { callId, data: Buffer.from(text, 'latin1') };
  }

  /** Sends `count` INVITEs and resolves when every one has its final answer. */
  send(count: number): Promise<void> {
    const first = this.next;
    const end = first + count;
    const started = Date.now();
    return new Promise((resolve) => {
      let queued = false;
      const pump = () => {
        queued = false;
        const allowed = Math.floor(((Date.now() - started) * RATE) / 1000) + 100 - (this.next - first);
        for (let n = Math.min(WINDOW - this.waiting.size, allowed, end - this.next); n > 0; n--) {
          const { callId, data } = this.invite(this.next++);
          this.waiting.set(callId, { data, sentAt: Date.now() });
          this.socket.send(data, this.port, '127.0.0.1');
        }
        if (this.next === end && this.waiting.size === 0) {
          clearInterval(resend);
          this.onFinal = undefined;
          resolve();
        } else if (allowed <= 0 && !queued) {
          queued = true;
          setTimeout(pump, 5);
        }
      };
      this.onFinal = () => {
        if (queued) return;
        queued = true;
        setImmediate(pump);
      };
      const resend = setInterval(() => {
        const now = Date.now();
        for (const w of this.waiting.values()) {
          if (now - w.sentAt < 1000) continue;
          w.sentAt = now;
          this.socket.send(w.data, this.port, '127.0.0.1');
        }
      }, 250);
      pump();
    });
  }

  options(): Promise<number> {
    const lport = this.socket.address().port;
    const text =
      `OPTIONS sip:127.0.0.1:${this.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK-flood-options;rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:flood@127.0.0.1>;tag=fo\r\nTo: <sip:127.0.0.1>\r\nCall-ID: flood-options@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    // Sent again every 500 ms (Timer E) until answered: the answer may be dropped by a full receive buffer while
    // the server still retransmits its 2xx to the flood; the server's transaction absorbs the copies.
    return new Promise((resolve, reject) => {
      const send = () => this.socket.send(Buffer.from(text), this.port, '127.0.0.1');
      const again = setInterval(send, 500);
      const timer = setTimeout(() => (clearInterval(again), reject(new Error('no answer to OPTIONS within 30 s'))), 30_000);
      const onMessage = (d: Buffer) => {
        const s = d.toString('latin1');
        if (!s.includes('flood-options@test')) return;
        clearTimeout(timer);
        clearInterval(again);
        this.socket.off('message', onMessage);
        resolve(Number(s.slice(8, 11)));
      };
      this.socket.on('message', onMessage);
      send();
    });
  }
}

t.test('100,000 unACKed INVITEs leave serve answering OPTIONS with its RSS within 20% of where it started', async (t) => {
  const { child, port } = await startServe(t);
  const flood = new Flooder(port);
  await flood.start();
  t.teardown(() => flood.socket.close());
  const t0 = Date.now();
  await flood.send(WARM_UP);
  const startRss = rssKb(child.pid!);
  const t1 = Date.now();
  await flood.send(FLOOD);
  const t2 = Date.now();
  t.equal(await flood.options(), 200, 'OPTIONS answered after the flood');
  const endRss = rssKb(child.pid!);
  t.comment(`warm-up ${WARM_UP} INVITEs in ${t1 - t0} ms, flood ${FLOOD} in ${t2 - t1} ms; RSS ${startRss} kB after warm-up, ${endRss} kB after the flood; finals ${JSON.stringify([...flood.finals])}`);
  t.equal((flood.finals.get(200) ?? 0) + (flood.finals.get(503) ?? 0), WARM_UP + FLOOD, 'every INVITE got 200 or 503');
  t.ok((flood.finals.get(503) ?? 0) > 0, 'the call cap was reached: 503s were sent');
  t.ok(endRss <= startRss * 1.2, `RSS ${endRss} kB is within 20% of ${startRss} kB`);
});
