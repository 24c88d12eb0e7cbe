// The client side of the WebSocket transport (RFC 7118): connects out to
// ws://HOST:PORT/PATH (wss: over TLS with the run's trust settings), one
// connection per destination, opened at the first message sent there; what is
// sent while it opens waits in a bounded queue. A browser has no listening
// address: the local endpoint is a random `.invalid` host (§5.2, used in Via
// and Contact) with a number that only tells this process's transports apart.
// A connection that ended is opened again by the next message (as a WebRTC
// phone reconnects); the transactions that waited on it have failed already.

import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { hostText } from '../codec/index.js';
import { readPem } from './stream.js';
import { keepAlive, maxFrameBytes, sendFrame, WS_SUBPROTOCOL, wireConnection, type WsConnection } from './ws-connection.js';
import { countError, endpointKey, newCounters, type Endpoint, type Transport, type TransportOptions } from './transport.js';

/** Local ids of client transports in this process (a worker's UAs each have one). */
let nextLocalId = 0;
/** One CA file read once for all the UAs of a worker, not once per UA. */
const caFiles = new Map<string, Buffer>();

/** RFC 7118 §5.2: "the domain name ... SHOULD be a random token with the '.invalid' top-level domain". */
function invalidHost(): string {
  return `${randomBytes(6).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x')}.invalid`;
}

export async function createWsClientTransport(opts: TransportOptions): Promise<Transport> {
  const protocol = opts.protocol;
  const counters = newCounters();
  const conns = new Map<string, WsConnection>();
  const limits = opts.limits ?? {};
  const maxQueue = limits.maxQueue ?? 1000;
  const wsOpts = opts.ws ?? {};
  const path = wsOpts.path ?? '/';
  const tlsOpts = opts.tls ?? {};
  let ca: Buffer | undefined;
  if (protocol === 'wss' && tlsOpts.caFile) {
    ca = caFiles.get(tlsOpts.caFile);
    if (!ca) caFiles.set(tlsOpts.caFile, (ca = readPem(tlsOpts.caFile, 'CA file')));
  }
  const maxPayload = maxFrameBytes(opts);
  let closed = false;
  const local: Endpoint = { protocol, host: invalidHost(), port: ++nextLocalId };

  function connect(dest: Endpoint, key: string): WsConnection {
    const remote: Endpoint = { protocol, host: dest.host, port: dest.port };
    const host = hostText(dest.host);
    const describe = `${protocol} ${host}:${dest.port}`;
    const startedAt = performance.now();
    const ws = new WebSocket(`${protocol}://${host}:${dest.port}${path}`, WS_SUBPROTOCOL, {
      handshakeTimeout: limits.connectTimeoutMs ?? 10_000,
      maxPayload,
      perMessageDeflate: false,
      origin: wsOpts.origin,
      headers: wsOpts.headers,
      ca,
      rejectUnauthorized: tlsOpts.rejectUnauthorized !== false,
    });
    const conn: WsConnection = { ws, remote, ready: false, queue: [] };
    conns.set(key, conn);
    wireConnection(conn, opts, counters, describe, {
      closing: () => closed,
      closed: () => {
        if (conns.get(key) === conn) conns.delete(key);
      },
    });
    ws.once('open', () => {
      conn.ready = true;
      opts.events.onConnected?.(remote, performance.now() - startedAt);
      keepAlive(conn, opts, counters, describe);
      for (const b of conn.queue) sendFrame(ws, b);
      conn.queue.length = 0;
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
      const key = endpointKey(dest);
      let conn = conns.get(key);
      // Closing (its close not seen yet) counts as gone: the message goes on a new connection.
      if (!conn || (conn.ready && conn.ws.readyState !== WebSocket.OPEN)) conn = connect(dest, key);
      counters.messagesOut++;
      counters.bytesOut += data.length;
      if (conn.ready) sendFrame(conn.ws, data);
      else if (conn.queue.length < maxQueue) conn.queue.push(data);
      else {
        countError(counters, 'TRANSPORT_QUEUE_FULL');
        opts.events.onError('TRANSPORT_QUEUE_FULL', `${protocol} ${dest.host}:${dest.port}: send queue full while connecting`, dest);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of conns.values()) c.ws.terminate();
      conns.clear();
    },
  };
}
