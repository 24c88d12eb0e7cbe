// Is anything listening at the target? Before a run against an outside target
// sipstorm asks once: over UDP a CRLF keep-alive from a connected socket (a
// closed port answers with ICMP "port unreachable", seen as ECONNREFUSED), over
// TCP and TLS a connection attempt. Not an OPTIONS: a SIP request would be a
// call to the server under test (SIPp counts it against -m and as a failed
// call), while RFC 3261 §7.5 has servers ignore CRLFs between messages.

import dgram from 'node:dgram';
import net from 'node:net';
import type { Endpoint } from './transport.js';

export type ProbeResult = { up: true } | { up: false; reason: string };

export async function probeTarget(target: Endpoint, timeoutMs = 500): Promise<ProbeResult> {
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
    sock.connect(target.port, target.host, () => sock.send('\r\n\r\n'));
  });
}
