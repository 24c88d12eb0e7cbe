// Is anything listening at the target? Before a run against an outside target
// sipstorm asks once: over UDP a CRLF keep-alive from a connected socket (a
// closed port answers with ICMP "port unreachable", seen as ECONNREFUSED), over
// TCP and TLS (and WS, WSS) a connection attempt. Not an OPTIONS: a SIP request would be a
// call to the server under test (SIPp counts it against -m and as a failed
// call), while RFC 3261 §7.5 has servers ignore CRLFs between messages.
// Over TLS the probe completes the handshake with the run's trust settings: a
// certificate the run would refuse is found here, before anything is sent,
// and waiting does not cure it (`fatal`).

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { Endpoint, TlsOptions } from './transport.js';

export type ProbeResult = { up: true } | { up: false; reason: string; fatal?: boolean };

export async function probeTarget(target: Endpoint, timeoutMs = 500, tlsOpts: TlsOptions = {}): Promise<ProbeResult> {
  if (target.protocol === 'tls' || target.protocol === 'wss') return probeTls(target, Math.max(timeoutMs, 5000), tlsOpts);
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

function probeTls(target: Endpoint, timeoutMs: number, opts: TlsOptions): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let connected = false;
    const sock = tls.connect({
      host: target.host,
      port: target.port,
      ca: opts.caFile ? readFileSync(opts.caFile) : undefined,
      servername: opts.servername ?? (net.isIP(target.host) ? undefined : target.host),
      rejectUnauthorized: opts.rejectUnauthorized !== false,
    });
    const finish = (r: ProbeResult) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => finish(connected ? { up: false, reason: `no TLS handshake within ${timeoutMs} ms`, fatal: true } : { up: false, reason: `no TCP connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.once('connect', () => (connected = true));
    sock.once('secureConnect', () => finish({ up: true }));
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') return finish({ up: false, reason: 'connection refused' });
      if (!connected) return finish({ up: false, reason: err.message });
      finish({ up: false, reason: `TLS handshake failed: ${err.message}${err.code ? ` (TLS_${err.code})` : ''}`, fatal: true });
    });
  });
}
