// UDP transport: one dgram socket, IPv4 or IPv6 by the bound address.

import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import { bindDatagram } from './bind.js';
import { countError, newCounters, type Endpoint, type Transport, type TransportOptions } from './transport.js';

/**
 * dgram resolves the address of every send, an IP literal included, through dns.lookup, which answers on the next
 * tick: a closure, a tick and an async-hooks scope per datagram. Destinations here are resolved once, when the
 * target is read, so a literal is handed back at once; a name (there should be none) still goes to dns.lookup.
 */
let lastHost = '';
let lastFamily = 0;

function literalLookup(host: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  // isIP runs a regular expression: one target means one answer to remember.
  if (host !== lastHost) {
    lastFamily = isIP(host);
    lastHost = host;
  }
  const f = lastFamily;
  if (f) callback(null, host, f);
  else dnsLookup(host, family as number, callback as never);
}

export async function createUdpTransport(opts: TransportOptions): Promise<Transport> {
  const socket = dgram.createSocket({ type: isIPv6(opts.host) ? 'udp6' : 'udp4', reuseAddr: false, lookup: literalLookup as never });
  const counters = newCounters();
  await bindDatagram(socket, opts.port, opts.host);
  const addr = socket.address();
  const local: Endpoint = { protocol: 'udp', host: addr.address, port: addr.port };
  const tap = opts.tap;
  socket.on('message', (data, rinfo) => {
    // A datagram of nothing but CRLFs is a keep-alive (what sipstorm's own target probe sends, and many
    // phones), not a message: RFC 3261 §7.5 has CRLFs between messages ignored.
    if (isKeepAlive(data)) return;
    counters.messagesIn++;
    counters.bytesIn += data.length;
    if (tap) tap.message(true, 'udp', data, local.host, local.port, rinfo.address, rinfo.port);
    opts.events.onMessage(data, { protocol: 'udp', host: rinfo.address, port: rinfo.port });
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    const code = `UDP_${err.code ?? 'ERROR'}`;
    countError(counters, code);
    opts.events.onError(code, err.message);
  });
  let closed = false;
  return {
    protocol: 'udp',
    reliable: false,
    local,
    counters,
    send(data, dest) {
      if (closed) return;
      counters.messagesOut++;
      counters.bytesOut += data.length;
      if (tap) tap.message(false, 'udp', data, local.host, local.port, dest.host, dest.port);
      // No callback: with one, every datagram sent at once would queue a tick to report success. A failed send
      // comes to the 'error' listener above, counted by its code.
      socket.send(data, dest.port, dest.host);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

function isKeepAlive(data: Buffer): boolean {
  if (data.length === 0 || data.length > 8) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== 13 && data[i] !== 10) return false;
  return true;
}
