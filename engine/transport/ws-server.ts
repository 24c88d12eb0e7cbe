// The server side of the WebSocket transport (RFC 7118): an HTTP (or HTTPS
// for wss) listener that upgrades requests offering the `sip` subprotocol
// (§4: one without it is refused with 400) and keeps each connection by its
// remote address; a message to that address goes back over it. A server
// cannot open a connection to a WebSocket client: a message for an address
// with no open connection is a counted error, and its transaction fails at
// once. Accepted connections are capped and must deliver messages in time by
// the same ConnectionGuard as TCP/TLS, counted from the TCP accept (a
// handshake that never completes holds a socket all the same).

import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { readPem } from './stream.js';
import { listenOn } from './bind.js';
import { listeningGuard, type GuardSlot } from './connection-guard.js';
import { keepAlive, maxFrameBytes, sendFrame, WS_SUBPROTOCOL, wireConnection, type WsConnection } from './ws-connection.js';
import { countError, endpointKey, newCounters, type Endpoint, type Transport, type TransportOptions } from './transport.js';

export async function createWsServerTransport(opts: TransportOptions): Promise<Transport> {
  const protocol = opts.protocol;
  const counters = newCounters();
  const conns = new Map<string, WsConnection>();
  const limits = opts.limits ?? {};
  const path = opts.ws?.path;
  const connectTimeoutMs = limits.connectTimeoutMs ?? 10_000;
  let closed = false;

  const fail = (code: string, detail: string, remote?: Endpoint) => {
    countError(counters, code);
    opts.events.onError(code, detail, remote);
  };

  const guard = listeningGuard(protocol, limits, 'no whole message (or no completed handshake)', (slot, code, detail) => {
    const remote: Endpoint = { protocol, host: slot.address, port: slot.socket.remotePort ?? 0 };
    fail(code, detail, remote);
    const conn = conns.get(endpointKey(remote));
    if (conn) conn.lost ??= { code, detail };
  });

  const server =
    protocol === 'wss'
      ? https.createServer({
          cert: opts.tls?.certFile ? readPem(opts.tls.certFile, 'certificate') : undefined,
          key: opts.tls?.keyFile ? readPem(opts.tls.keyFile, 'key') : undefined,
          handshakeTimeout: connectTimeoutMs,
        })
      : http.createServer();
  server.headersTimeout = connectTimeoutMs;
  server.requestTimeout = connectTimeoutMs;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes(opts),
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (offered) => (offered.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false),
  });

  // Every TCP connection counts from its accept, before any handshake.
  const handshaking = new Map<string, GuardSlot>();
  server.on('connection', (raw: net.Socket) => {
    const k = endpointKey({ host: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 });
    const slot = guard.admit(raw);
    handshaking.set(k, slot);
    raw.once('close', () => {
      if (handshaking.get(k) === slot) handshaking.delete(k);
    });
  });
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    // RFC 7231 §6.5.15: a plain HTTP request gets 426 naming the protocol to upgrade to.
    fail('WS_NOT_UPGRADE', `${protocol}: an HTTP request without a WebSocket upgrade, answered 426`);
    res.writeHead(426, { Upgrade: 'websocket', Connection: 'close', 'Content-Type': 'text/plain' });
    res.end('SIP over WebSocket only (RFC 7118): upgrade with Sec-WebSocket-Protocol: sip\n');
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const remote: Endpoint = { protocol, host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const k = endpointKey(remote);
    const slot = handshaking.get(k);
    handshaking.delete(k);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim().toLowerCase());
    const where = `${protocol} ${remote.host}:${remote.port}`;
    if (!offered.includes(WS_SUBPROTOCOL)) {
      fail('WS_NO_SUBPROTOCOL', `${where}: upgrade without the 'sip' subprotocol, refused with 400`, remote);
      return refuse(socket, 400, "Bad Request (Sec-WebSocket-Protocol must offer 'sip', RFC 7118 §4)");
    }
    if (path !== undefined && (req.url ?? '/').split('?')[0] !== path) {
      fail('WS_BAD_PATH', `${where}: upgrade for '${(req.url ?? '').slice(0, 80)}', refused with 404 (serving ${path})`, remote);
      return refuse(socket, 404, 'Not Found');
    }
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws, remote, k, slot));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    fail(timeout ? 'WS_HANDSHAKE_TIMEOUT' : 'WS_BAD_HANDSHAKE', `${protocol} ${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}: ${timeout ? `no upgrade request within ${connectTimeoutMs} ms` : err.message}`);
    socket.destroy();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    fail(err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'TLS_HANDSHAKE_TIMEOUT' : 'TLS_HANDSHAKE', err.message);
    socket.destroy();
  });
  server.on('error', (err: NodeJS.ErrnoException) => fail(`TRANSPORT_${err.code ?? 'ERROR'}`, err.message));

  function attach(ws: WebSocket, remote: Endpoint, k: string, slot: GuardSlot | undefined): void {
    const describe = `${protocol} ${remote.host}:${remote.port}`;
    const conn: WsConnection = { ws, remote, ready: true, queue: [] };
    conns.set(k, conn);
    wireConnection(conn, opts, counters, describe, {
      closing: () => closed,
      frame: slot ? () => guard.progress(slot, 1, false) : undefined,
      closed: () => {
        if (conns.get(k) === conn) conns.delete(k);
      },
    });
    keepAlive(conn, opts, counters, describe);
  }

  const addr = await listenOn(server, opts.port, opts.host);
  const local: Endpoint = { protocol, host: addr.address, port: addr.port };

  return {
    protocol,
    reliable: true,
    local,
    counters,
    send(data, dest) {
      if (closed) return;
      const conn = conns.get(endpointKey(dest));
      if (!conn || conn.ws.readyState !== WebSocket.OPEN) {
        const code = 'WS_NO_CONNECTION';
        const detail = `${protocol} ${dest.host}:${dest.port}: no open WebSocket connection there (a server cannot open one to a client)`;
        fail(code, detail, dest);
        // The transaction that sent it is registered by now: it fails at once, not at its timer (RFC 3261 §17.1.4).
        setImmediate(() => opts.events.onConnectionLost?.({ protocol, host: dest.host, port: dest.port }, code, detail));
        return;
      }
      counters.messagesOut++;
      counters.bytesOut += data.length;
      sendFrame(conn.ws, data);
    },
    async close() {
      if (closed) return;
      closed = true;
      guard.stop();
      for (const c of conns.values()) c.ws.terminate();
      conns.clear();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuse(socket: net.Socket, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroySoon?.();
}
