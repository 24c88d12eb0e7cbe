// A scripted SIP peer for tests of the generator against hostile or broken
// servers: real UDP and TCP sockets on loopback (port 0), every request parsed
// with the codec and handed to the test's script, which answers with bytes of
// its choosing (well-formed or not) through `reply`. `answer()` writes the
// text of a response to a request, with the fields a script wants to break
// given as raw header lines.

import dgram from 'node:dgram';
import net from 'node:net';
import { parseMessage, StreamFramer, type SipMessage } from '../../engine/codec/index.js';

export interface ScriptedRequest {
  msg: SipMessage;
  transport: 'udp' | 'tcp';
  /** Sends bytes back the way the request came (the source address over UDP, the same connection over TCP). */
  reply(data: string | Buffer): void;
}

export interface ScriptedServerOptions {
  /** Called for every request that parses; what it does not answer stays unanswered. */
  onRequest(req: ScriptedRequest): void;
}

export class ScriptedServer {
  /** Every request received, in order (ACKs and CANCELs included). */
  readonly requests: SipMessage[] = [];
  private readonly connections = new Set<net.Socket>();

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly udpPort: number,
    readonly tcpPort: number,
  ) {}

  static async start(opts: ScriptedServerOptions): Promise<ScriptedServer> {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    const tcp = net.createServer();
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
    const server = new ScriptedServer(udp, tcp, udp.address().port, (tcp.address() as net.AddressInfo).port);
    const take = (data: Buffer, transport: 'udp' | 'tcp', reply: (d: Buffer) => void) => {
      let msg: SipMessage;
      try {
        msg = parseMessage(data, { stream: transport === 'tcp' });
      } catch {
        return;
      }
      if (!msg.isRequest) return;
      server.requests.push(msg);
      opts.onRequest({ msg, transport, reply: (d) => reply(typeof d === 'string' ? Buffer.from(d, 'utf8') : d) });
    };
    udp.on('message', (data, rinfo) => take(data, 'udp', (d) => udp.send(d, rinfo.port, rinfo.address)));
    tcp.on('connection', (sock) => {
      server.connections.add(sock);
      sock.on('close', () => server.connections.delete(sock));
      sock.on('error', () => {});
      const framer = new StreamFramer();
      sock.on('data', (chunk) => {
        let frames: Buffer[];
        try {
          frames = framer.push(chunk);
        } catch {
          sock.destroy();
          return;
        }
        for (const f of frames) take(f, 'tcp', (d) => sock.writable && sock.write(d));
      });
    });
    return server;
  }

  /** The --target of this server for a transport. */
  target(transport: 'udp' | 'tcp'): string {
    return transport === 'udp' ? `sip:127.0.0.1:${this.udpPort}` : `sip:127.0.0.1:${this.tcpPort};transport=tcp`;
  }

  async close(): Promise<void> {
    for (const s of this.connections) s.destroy();
    await Promise.all([new Promise<void>((r) => this.udp.close(() => r())), new Promise<void>((r) => this.tcp.close(() => r()))]);
  }
}

/**
 * The text of a response to `req`: Via, From, Call-ID and CSeq copied, To with `toTag` added (unless
 * `to` replaces the whole line), then `headers` as raw lines, then Content-Length (unless `headers`
 * already has one) and the body. Nothing is checked: a script may write what no server should.
 */
export function answer(req: SipMessage, status: number, reason: string, o: { toTag?: string; to?: string; headers?: string[]; body?: string } = {}): string {
  const lines = [`SIP/2.0 ${status} ${reason}`];
  for (const v of req.getAll('Via')) lines.push(`Via: ${v}`);
  lines.push(`From: ${req.get('From')}`);
  lines.push(o.to !== undefined ? `To: ${o.to}` : `To: ${req.get('To')}${o.toTag && !/;tag=/.test(req.get('To') ?? '') ? `;tag=${o.toTag}` : ''}`);
  lines.push(`Call-ID: ${req.get('Call-ID')}`, `CSeq: ${req.get('CSeq')}`);
  lines.push(...(o.headers ?? []));
  const body = o.body ?? '';
  if (!(o.headers ?? []).some((h) => /^(content-length|l)\s*:/i.test(h))) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}
