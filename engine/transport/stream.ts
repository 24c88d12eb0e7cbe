// TCP and TLS transports: a listening server plus a pool of connections keyed
// by remote address, reused in both directions (RFC 3261 §18: responses go back
// on the connection the request came on; new requests reuse an open one).
// Framing by Content-Length through the codec's StreamFramer, with bounded
// buffers: a peer that breaks the limits is counted and disconnected.

import net from 'node:net';
import tls from 'node:tls';
import { StreamFramer, SipParseError } from '../codec/index.js';
import { SipstormError } from '../errors.js';
import { readInputFile, type InputFileError } from '../input-file.js';
import {
  countError, endpointKey, newCounters, type Endpoint, type Protocol, type Transport, type TransportOptions,
} from './transport.js';

interface Connection {
  socket: net.Socket;
  ready: boolean;
  queue: Buffer[];
  framer: StreamFramer;
  remote: Endpoint;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readInputFile(file, 'certificate');
  } catch (err) {
    const e = err as InputFileError;
    if (e.code === 'INPUT_MISSING') throw new SipstormError('TLS_FILE_UNREADABLE', `${file}: cannot read TLS ${what} (ENOENT)`);
    throw new SipstormError('TLS_FILE_UNREADABLE', `${file}: TLS ${what} ${e.reason ?? e.message}`);
  }
}

export async function createStreamTransport(opts: TransportOptions): Promise<Transport> {
  const protocol: Protocol = opts.protocol;
  const counters = newCounters();
  const conns = new Map<string, Connection>();
  const limits = opts.limits ?? {};
  const maxQueue = limits.maxQueue ?? 1000;
  const tlsOpts = opts.tls ?? {};
  const cert = tlsOpts.certFile ? readPem(tlsOpts.certFile, 'certificate') : undefined;
  const key = tlsOpts.keyFile ? readPem(tlsOpts.keyFile, 'key') : undefined;
  const ca = tlsOpts.caFile ? readPem(tlsOpts.caFile, 'CA file') : undefined;
  let closed = false;

  const fail = (code: string, detail: string, remote?: Endpoint) => {
    countError(counters, code);
    opts.events.onError(code, detail, remote);
  };

  function attach(socket: net.Socket, remote: Endpoint, ready: boolean): Connection {
    const conn: Connection = { socket, ready, queue: [], framer: new StreamFramer(limits), remote };
    const k = endpointKey(remote);
    conns.set(k, conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      counters.bytesIn += chunk.length;
      let messages: Buffer[];
      try {
        messages = conn.framer.push(chunk);
      } catch (err) {
        const code = err instanceof SipParseError ? err.code : 'STREAM_FRAMING';
        fail(code, (err as Error).message, remote);
        socket.destroy();
        return;
      }
      for (const m of messages) {
        counters.messagesIn++;
        opts.events.onMessage(m, remote);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'ECONNREFUSED' ? 'TRANSPORT_CONNECT_REFUSED' : `TRANSPORT_${err.code ?? 'ERROR'}`;
      fail(code, `${protocol} ${remote.host}:${remote.port}: ${err.message}`, remote);
    });
    socket.on('close', () => {
      if (conns.get(k) === conn) conns.delete(k);
      if (conn.queue.length > 0) fail('TRANSPORT_DROPPED_QUEUE', `${conn.queue.length} messages not sent: connection closed`, remote);
      conn.queue.length = 0;
    });
    return conn;
  }

  const onIncoming = (socket: net.Socket) => {
    const remote: Endpoint = { protocol, host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    attach(socket, remote, true);
  };
  const server =
    protocol === 'tls'
      ? tls.createServer({ cert, key, ca, handshakeTimeout: 10_000 }, onIncoming)
      : net.createServer(onIncoming);
  server.on('tlsClientError', (err: Error) => fail('TLS_HANDSHAKE', err.message));
  server.on('error', (err) => fail(`TRANSPORT_${(err as NodeJS.ErrnoException).code ?? 'ERROR'}`, err.message));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  const local: Endpoint = { protocol, host: addr.address, port: addr.port };

  function connect(dest: Endpoint): Connection {
    const socket =
      protocol === 'tls'
        ? tls.connect({
            host: dest.host,
            port: dest.port,
            ca,
            cert,
            key,
            servername: tlsOpts.servername ?? (net.isIP(dest.host) ? undefined : dest.host),
            rejectUnauthorized: tlsOpts.rejectUnauthorized !== false,
          })
        : net.connect({ host: dest.host, port: dest.port });
    const conn = attach(socket, dest, false);
    // A peer that accepts the connection but stalls (mid-handshake) must not hold the queue forever.
    const connectTimeoutMs = limits.connectTimeoutMs ?? 10_000;
    socket.setTimeout(connectTimeoutMs, () => {
      if (conn.ready) return;
      fail(protocol === 'tls' ? 'TLS_HANDSHAKE_TIMEOUT' : 'TRANSPORT_CONNECT_TIMEOUT', `${protocol} ${dest.host}:${dest.port}: no ${protocol === 'tls' ? 'TLS handshake' : 'connection'} within ${connectTimeoutMs} ms`, dest);
      socket.destroy();
    });
    socket.once(protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      conn.ready = true;
      if (conn.queue.length > 0) {
        socket.cork();
        for (const b of conn.queue) socket.write(b);
        socket.uncork();
        conn.queue.length = 0;
      }
    });
    return conn;
  }

  return {
    protocol,
    reliable: true,
    local,
    counters,
    send(data, dest) {
      if (closed) return;
      let conn = conns.get(endpointKey(dest));
      if (!conn || conn.socket.destroyed) conn = connect(dest);
      counters.messagesOut++;
      counters.bytesOut += data.length;
      if (conn.ready) conn.socket.write(data);
      else if (conn.queue.length < maxQueue) conn.queue.push(data);
      else fail('TRANSPORT_QUEUE_FULL', `${protocol} ${dest.host}:${dest.port}: send queue full while connecting`, dest);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of conns.values()) c.socket.destroy();
      conns.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
