// A tiny SIP client for tests of the server: a real UDP socket, requests
// built with the codec, responses parsed and collected. Not a mock: it talks
// to the real server over loopback.

import dgram from 'node:dgram';
import { createRequest, newBranch, newCallId, newTag, parseMessage, serializeMessage, type SipMessage } from '../../engine/codec/index.js';

export class TestClient {
  readonly socket = dgram.createSocket('udp4');
  readonly received: SipMessage[] = [];
  private waiters: { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  port = 0;

  constructor(readonly serverPort: number, readonly serverHost = '127.0.0.1') {}

  async start(): Promise<this> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = this.socket.address().port;
    this.socket.on('message', (data) => {
      let msg: SipMessage;
      try {
        msg = parseMessage(data);
      } catch {
        return;
      }
      this.received.push(msg);
      const i = this.waiters.findIndex((w) => w.pred(msg));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
    });
    return this;
  }

  sendRaw(data: Buffer | string): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, this.serverPort, this.serverHost);
  }

  send(msg: SipMessage): void {
    this.sendRaw(serializeMessage(msg));
  }

  /** Resolves with the first message (already received or coming) matching pred. */
  wait(pred: (m: SipMessage) => boolean, timeoutMs = 3000): Promise<SipMessage> {
    const have = this.received.find(pred);
    if (have) {
      this.received.splice(this.received.indexOf(have), 1);
      return Promise.resolve(have);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m);
        },
      });
    });
  }

  request(method: string, uri: string, opts: { user?: string; callId?: string; cseq?: number; fromTag?: string; toTag?: string; headers?: [string, string][]; body?: string; contentType?: string } = {}): SipMessage {
    const user = opts.user ?? 'user1';
    return createRequest({
      method,
      uri,
      from: `<sip:${user}@127.0.0.1>;tag=${opts.fromTag ?? newTag()}`,
      to: `<sip:${/^sip:([^@]+)@/.exec(uri)?.[1] ?? user}@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
      callId: opts.callId ?? newCallId('127.0.0.1'),
      cseq: opts.cseq ?? 1,
      via: `SIP/2.0/UDP 127.0.0.1:${this.port};branch=${newBranch()};rport`,
      contact: `<sip:${user}@127.0.0.1:${this.port}>`,
      headers: opts.headers,
      body: opts.body,
      contentType: opts.contentType,
    });
  }

  close(): void {
    this.socket.close();
  }
}
