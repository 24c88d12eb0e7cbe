// Slowloris against a real `sipstorm serve` child process over TCP, run under
// `ulimit -n 1024` as in the report that found it: 2,000 connections from the
// test, half of them trickling a request that never ends, half saying nothing.
// serve keeps its connections under its cap (the open-file limit less 100),
// closing the silent and the slow first, never runs out of descriptors, and a
// fresh TCP client still registers (401, then 200 with credentials). Every
// slow connection is then closed by the message timeout (5 s here, by flag),
// while the client that registered keeps its idle connection, which still
// answers. Judged by events: close events, answers, /proc/PID/fd.

import t from 'tap';
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { buildAuthorization, pickChallenge } from '../../engine/auth/index.js';
import { createRequest, newBranch, parseMessage, serializeMessage, StreamFramer, type SipMessage } from '../../engine/codec/index.js';
import { ROOT } from '../support/cli.js';

const CONNECTIONS = 2000;
const FD_LIMIT = 1024;

interface Peer {
  socket: net.Socket;
  closed: Promise<void>;
  isClosed: boolean;
}

function open(port: number): Promise<Peer> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const peer: Peer = { socket, isClosed: false, closed: new Promise((r) => socket.once('close', () => ((peer.isClosed = true), r()))) };
    socket.on('error', () => {}); // resets once the server sheds it
    socket.once('connect', () => resolve(peer));
    socket.once('close', () => resolve(peer));
  });
}

/** A SIP client on one TCP connection: sends requests, resolves the final response of each. */
class TcpClient {
  private framer = new StreamFramer();
  private waiting = new Map<string, (m: SipMessage) => void>();
  constructor(readonly peer: Peer) {
    peer.socket.on('data', (d) => {
      for (const raw of this.framer.push(d)) {
        const m = parseMessage(raw, { stream: true });
        if (m.isRequest || m.status < 200) continue;
        const key = `${m.callId()}|${m.cseq().seq}`;
        this.waiting.get(key)?.(m);
        this.waiting.delete(key);
      }
    });
  }
  request(req: SipMessage): Promise<SipMessage> {
    return new Promise((resolve) => {
      this.waiting.set(`${req.callId()}|${req.cseq().seq}`, resolve);
      this.peer.socket.write(serializeMessage(req));
    });
  }
}

t.test('2,000 slowloris connections are shed while a fresh TCP client registers; serve stays within its descriptors', async (t) => {
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, process.execPath, 'dist/cli/main.js', 'serve', '--port', '0', '--transport', 'tcp', '--message-timeout', '5s'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const peers: Peer[] = [];
  let trickle: NodeJS.Timeout | undefined;
  t.teardown(() => {
    clearInterval(trickle);
    for (const p of peers) p.socket.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stderr.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on tcp 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });

  // Half trickle a REGISTER whose headers never end, one byte per connection every 200 ms; half say nothing.
  trickle = setInterval(() => {
    for (let i = 0; i < peers.length; i += 2) if (!peers[i]!.isClosed) peers[i]!.socket.write('a');
  }, 200);
  for (let i = 0; i < CONNECTIONS; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => open(port)));
    batch.forEach((p, j) => {
      if ((i + j) % 2 === 0 && !p.isClosed) p.socket.write(`REGISTER sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=${newBranch()}\r\nX-Slow: `);
    });
    peers.push(...batch);
  }
  const fds = readdirSync(`/proc/${child.pid}/fd`).length;
  t.ok(fds < FD_LIMIT, `serve holds ${fds} descriptors after ${CONNECTIONS} connections, under its limit of ${FD_LIMIT}`);
  await Promise.race(peers.map((p) => p.closed));
  t.pass('connections over the cap are being closed');

  const fresh = new TcpClient(await open(port));
  t.notOk(fresh.peer.isClosed, 'a fresh connection is accepted');
  const uri = `sip:127.0.0.1:${port};transport=tcp`;
  const local = `${fresh.peer.socket.localAddress}:${fresh.peer.socket.localPort}`;
  const register = (cseq: number) =>
    createRequest({
      method: 'REGISTER', uri, from: '<sip:user1@127.0.0.1>;tag=fresh', to: '<sip:user1@127.0.0.1>', callId: 'fresh-register@test', cseq,
      via: `SIP/2.0/TCP ${local};branch=${newBranch()};rport`, contact: `<sip:user1@${local};transport=tcp>`, headers: [['Expires', '600']],
    });
  const challenge = await fresh.request(register(1));
  t.equal(challenge.status, 401, 'the fresh client is answered');
  const second = register(2);
  second.add('Authorization', buildAuthorization(pickChallenge(challenge.getAll('WWW-Authenticate'))!, { method: 'REGISTER', uri }, { username: 'user1', password: 'secret1' }, { nc: 0 }));
  t.equal((await fresh.request(second)).status, 200, 'and registers');

  await Promise.all(peers.map((p) => p.closed));
  t.pass(`all ${CONNECTIONS} slow or silent connections were closed`);
  t.notOk(fresh.peer.isClosed, 'the registered client keeps its idle connection');
  const options = createRequest({
    method: 'OPTIONS', uri, from: '<sip:user1@127.0.0.1>;tag=fresh', to: `<${uri}>`, callId: 'fresh-options@test', cseq: 1,
    via: `SIP/2.0/TCP ${local};branch=${newBranch()};rport`,
  });
  t.equal((await fresh.request(options)).status, 200, 'and it still answers over it');
  fresh.peer.socket.destroy();
});
