// TCP and TLS transports: a listening server plus a pool of connections keyed
// by remote address, reused in both directions (RFC 3261 §18: responses go back
// on the connection the request came on; new requests reuse an open one).
// Framing by Content-Length through the codec's StreamFramer, with bounded
// buffers: a peer that breaks the limits is counted and disconnected.
// Accepted connections are capped and must deliver messages in time
// (connection-guard.ts): what is shed is counted, never silent.

import net from 'node:net';
import tls from 'node:tls';
import { StreamFramer, SipParseError } from '../codec/index.js';
import { SipstormError } from '../errors.js';
import { readInputFile, type InputFileError } from '../input-file.js';
import { listenOn } from './bind.js';
import { listeningGuard, type GuardSlot } from './connection-guard.js';
import {
  countError, endpointKey, newCounters, type Endpoint, type Protocol, type Transport, type TransportOptions,
} from './transport.js';

interface Connection {
  socket: net.Socket;
  ready: boolean;
  queue: Buffer[];
  framer: StreamFramer;
  remote: Endpoint;
  /** Accepted connections only: what the guard knows of it. */
  slot?: GuardSlot;
  /** Why it ended, when it ended in an error (reported once the socket closes). */
  lost?: { code: string; detail: string };
}

export function readPem(file: string, what: string): Buffer {
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
  const tap = opts.tap;
  /** What the tap sees is what is written, when it is written (a queued message once its connection is up). */
  const write = (conn: Connection, data: Buffer) => {
    if (tap) tap.message(false, protocol, data, conn.socket.localAddress ?? '', conn.socket.localPort ?? 0, conn.remote.host, conn.remote.port);
    conn.socket.write(data);
  };

  const fail = (code: string, detail: string, remote?: Endpoint) => {
    countError(counters, code);
    opts.events.onError(code, detail, remote);
  };
  /** A counted error that ends the connection: the reason it reports when it closes. */
  const failConnection = (conn: Connection, code: string, detail: string) => {
    fail(code, detail, conn.remote);
    conn.lost ??= { code, detail };
  };

  const guard = listeningGuard(protocol, limits, 'no whole message', (slot, code, detail) => {
    const remote: Endpoint = { protocol, host: slot.address, port: slot.socket.remotePort ?? 0 };
    const conn = conns.get(endpointKey(remote));
    // The connection ends for this reason: its close must not count the cut-off message a second time.
    if (conn) failConnection(conn, code, detail);
    else fail(code, detail, remote);
  });

  function attach(socket: net.Socket, remote: Endpoint, ready: boolean, slot?: GuardSlot): Connection {
    const conn: Connection = { socket, ready, queue: [], framer: new StreamFramer(limits), remote, slot };
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
        failConnection(conn, code, `${protocol} ${remote.host}:${remote.port}: ${(err as Error).message}`);
        socket.destroy();
        return;
      }
      if (conn.slot) guard.progress(conn.slot, messages.length, conn.framer.buffered > 0);
      for (const m of messages) {
        counters.messagesIn++;
        if (tap) tap.message(true, protocol, m, socket.localAddress ?? '', socket.localPort ?? 0, remote.host, remote.port);
        opts.events.onMessage(m, remote);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (conn.lost) return; // already failed (framing, handshake timeout): the destroy's echo
      if (protocol === 'tls' && !conn.ready && err.code !== 'ECONNREFUSED') {
        // The handshake failed (an untrusted or expired certificate, a peer that is not TLS): say why.
        failConnection(conn, `TLS_${err.code ?? 'HANDSHAKE'}`, `TLS handshake with ${remote.host}:${remote.port} failed: ${err.message}`);
        return;
      }
      const code = err.code === 'ECONNREFUSED' ? 'TRANSPORT_CONNECT_REFUSED' : `TRANSPORT_${err.code ?? 'ERROR'}`;
      failConnection(conn, code, `${protocol} ${remote.host}:${remote.port}: ${err.code === 'ECONNREFUSED' ? 'connection refused' : err.message}`);
    });
    socket.on('close', () => {
      if (conns.get(k) === conn) conns.delete(k);
      if (conn.queue.length > 0) fail('TRANSPORT_DROPPED_QUEUE', `${conn.queue.length} messages not sent: connection closed`, remote);
      conn.queue.length = 0;
      if (closed) return;
      // A message cut off by the close is a counted error; a clean close is reported, counted by whoever it hurt.
      if (!conn.lost && conn.framer.buffered > 0) {
        failConnection(conn, 'TRANSPORT_CLOSED_MID_MESSAGE', `${protocol} ${remote.host}:${remote.port}: connection closed in the middle of a message (${conn.framer.buffered} bytes of it received)`);
      }
      const lost = conn.lost ?? { code: 'TRANSPORT_CLOSED', detail: `${protocol} ${remote.host}:${remote.port}: connection closed by the peer` };
      opts.events.onConnectionLost?.(remote, lost.code, lost.detail);
    });
    return conn;
  }

  // TLS connections are counted from the TCP accept, before their handshake: a peer that never finishes one holds a
  // socket all the same.
  const handshaking = new Map<string, GuardSlot>();
  const onIncoming = (socket: net.Socket) => {
    const remote: Endpoint = { protocol, host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    let slot: GuardSlot | undefined;
    if (protocol === 'tls') {
      slot = handshaking.get(endpointKey(remote));
      handshaking.delete(endpointKey(remote));
    } else slot = guard.admit(socket);
    attach(socket, remote, true, slot);
  };
  const server =
    protocol === 'tls'
      ? tls.createServer({ cert, key, ca, handshakeTimeout: limits.connectTimeoutMs ?? 10_000 }, onIncoming)
      : net.createServer(onIncoming);
  if (protocol === 'tls') {
    server.on('connection', (raw: net.Socket) => {
      const k = endpointKey({ host: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 });
      const slot = guard.admit(raw);
      handshaking.set(k, slot);
      raw.once('close', () => {
        if (handshaking.get(k) === slot) handshaking.delete(k);
      });
    });
  }
  // With a listener here Node leaves the socket open: a failed or timed-out handshake must be closed by us.
  server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
    fail((err as NodeJS.ErrnoException).code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'TLS_HANDSHAKE_TIMEOUT' : 'TLS_HANDSHAKE', err.message);
    socket.destroy();
  });
  if (opts.keylog) server.on('keylog', opts.keylog);
  server.on('error', (err) => fail(`TRANSPORT_${(err as NodeJS.ErrnoException).code ?? 'ERROR'}`, err.message));
  const addr = await listenOn(server, opts.port, opts.host);
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
    if (opts.keylog && protocol === 'tls') socket.on('keylog', opts.keylog);
    const conn = attach(socket, dest, false);
    // A peer that accepts the connection but stalls (mid-handshake) must not hold the queue forever.
    const connectTimeoutMs = limits.connectTimeoutMs ?? 10_000;
    socket.setTimeout(connectTimeoutMs, () => {
      if (conn.ready) return;
      failConnection(conn, protocol === 'tls' ? 'TLS_HANDSHAKE_TIMEOUT' : 'TRANSPORT_CONNECT_TIMEOUT', `${protocol} ${dest.host}:${dest.port}: no ${protocol === 'tls' ? 'TLS handshake' : 'connection'} within ${connectTimeoutMs} ms`);
      socket.destroy();
    });
    socket.once(protocol === 'tls' ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      conn.ready = true;
      if (conn.queue.length > 0) {
        socket.cork();
        for (const b of conn.queue) write(conn, b);
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
      if (conn.ready) write(conn, data);
      else if (conn.queue.length < maxQueue) conn.queue.push(data);
      else fail('TRANSPORT_QUEUE_FULL', `${protocol} ${dest.host}:${dest.port}: send queue full while connecting`, dest);
    },
    async close() {
      if (closed) return;
      closed = true;
      guard.stop();
      for (const c of conns.values()) c.socket.destroy();
      conns.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
