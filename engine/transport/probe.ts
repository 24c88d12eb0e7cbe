// Is anything listening at the target? Before a run against an outside target
// sipstorm asks once: over UDP an OPTIONS from a connected socket (a closed
// port answers with ICMP "port unreachable", seen as ECONNREFUSED; silence or
// any SIP answer counts as up, since some servers ignore OPTIONS), over TCP and
// TLS a connection attempt.

import dgram from 'node:dgram';
import net from 'node:net';
import type { Endpoint } from './transport.js';

export type ProbeResult = { up: true } | { up: false; reason: string };

export async function probeTarget(target: Endpoint, timeoutMs = 1000): Promise<ProbeResult> {
  if (target.protocol !== 'udp') {
    return new Promise((resolve) => {
      const sock = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        sock.destroy();
        resolve({ up: false, reason: `no TCP connection within ${timeoutMs} ms` });
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.destroy();
        resolve({ up: true });
      });
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ up: false, reason: err.code === 'ECONNREFUSED' ? 'connection refused' : err.message });
      });
    });
  }
  const sock = dgram.createSocket(net.isIPv6(target.host) ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ up: true }), timeoutMs);
    sock.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' ? { up: false, reason: 'port unreachable (nothing listens there)' } : { up: true }));
    sock.on('message', () => finish({ up: true }));
    sock.connect(target.port, target.host, () => {
      const host = target.host.includes(':') ? `[${target.host}]` : target.host;
      const local = sock.address();
      const lh = local.address.includes(':') ? `[${local.address}]` : local.address;
      const id = `probe-${process.pid}-${Date.now()}`;
      const msg = `OPTIONS sip:${host}:${target.port} SIP/2.0\r\nVia: SIP/2.0/UDP ${lh}:${local.port};branch=z9hG4bK${id};rport\r\nMax-Forwards: 70\r\nFrom: <sip:sipstorm@${lh}>;tag=${id}\r\nTo: <sip:${host}:${target.port}>\r\nCall-ID: ${id}@${lh}\r\nCSeq: 1 OPTIONS\r\nUser-Agent: sipstorm\r\nContent-Length: 0\r\n\r\n`;
      sock.send(msg);
    });
  });
}
