// One WebSocket connection of the RFC 7118 transport, what the client and the
// server side share: its frames in and out (one whole SIP message per frame,
// §5: no Content-Length framing), its ping/pong keep-alive, and the counted
// codes of what ends it.

import { isUtf8 } from 'node:buffer';
import type { WebSocket } from 'ws';
import { unwatchAlive, watchAlive } from './ws-keepalive.js';
import { countError, type Endpoint, type TransportCounters, type TransportOptions } from './transport.js';

/** RFC 7118 §4: the subprotocol of SIP over WebSocket. */
export const WS_SUBPROTOCOL = 'sip';
export const DEFAULT_PING_INTERVAL_MS = 30_000;

/** The largest frame taken: the stream limits of a message's header and body together. */
export function maxFrameBytes(opts: TransportOptions): number {
  const l = opts.limits ?? {};
  return opts.ws?.maxFrameBytes ?? (l.maxHeaderBytes ?? 64 * 1024) + (l.maxBodyBytes ?? 1024 * 1024);
}

/** One open (or opening) WebSocket and what was sent before it opened. */
export interface WsConnection {
  ws: WebSocket;
  remote: Endpoint;
  ready: boolean;
  queue: Buffer[];
  /** Why it ended, when it ended in an error (reported once it closes). */
  lost?: { code: string; detail: string };
}

/**
 * Wires a connection's frames and end to the transport's counters and events. `describe` names it in details
 * (`ws 127.0.0.1:8080`); `onMessage` is told of every frame (the server's guard counts them); `closing()` says the
 * transport itself is closing (no loss is reported then).
 */
export function wireConnection(
  conn: WsConnection,
  opts: TransportOptions,
  counters: TransportCounters,
  describe: string,
  hooks: { closing(): boolean; frame?(): void; closed(): void },
): void {
  const { ws, remote } = conn;
  const fail = (code: string, detail: string) => {
    countError(counters, code);
    opts.events.onError(code, detail, remote);
    conn.lost ??= { code, detail };
  };
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    hooks.frame?.();
    // A frame of nothing but CRLFs is a keep-alive some clients send, not a message (RFC 3261 §7.5).
    if (isKeepAlive(data)) return;
    if (!isBinary && !isUtf8(data)) {
      // ws checks text frames itself (closing with 1007); a frame it let through is still counted, not parsed.
      fail('WS_BAD_TEXT_FRAME', `${describe}: a text frame that is not UTF-8`);
      return;
    }
    counters.messagesIn++;
    counters.bytesIn += data.length;
    opts.events.onMessage(data, remote);
  });
  ws.on('error', (err: Error & { code?: string }) => {
    if (conn.lost) return;
    const [code, why] = describeError(err, conn.ready);
    fail(code, `${describe}: ${why}`);
  });
  ws.on('close', (status: number, reason: Buffer) => {
    unwatchAlive(ws);
    hooks.closed();
    if (conn.queue.length > 0) {
      countError(counters, 'TRANSPORT_DROPPED_QUEUE');
      opts.events.onError('TRANSPORT_DROPPED_QUEUE', `${describe}: ${conn.queue.length} messages not sent: connection closed`, remote);
    }
    conn.queue.length = 0;
    if (hooks.closing()) return;
    const text = reason.length > 0 ? ` (${status} ${reason.toString('utf8').slice(0, 80)})` : status ? ` (${status})` : '';
    const lost = conn.lost ?? { code: 'TRANSPORT_CLOSED', detail: `${describe}: connection closed by the peer${text}` };
    opts.events.onConnectionLost?.(remote, lost.code, lost.detail);
  });
}

/** Starts the keep-alive of an open connection: a missed pong ends it, counted. */
export function keepAlive(conn: WsConnection, opts: TransportOptions, counters: TransportCounters, describe: string): void {
  const period = opts.ws?.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  watchAlive(conn.ws, period, () => {
    const code = 'WS_PING_TIMEOUT';
    const detail = `${describe}: no pong within ${period} ms of a ping`;
    countError(counters, code);
    opts.events.onError(code, detail, conn.remote);
    conn.lost ??= { code, detail };
    conn.ws.terminate();
  });
}

/** RFC 7118 §5: a message that is valid UTF-8 goes in a text frame, any other (a binary body) in a binary one. */
export function sendFrame(ws: WebSocket, data: Buffer): void {
  ws.send(data, { binary: !isUtf8(data) });
}

/** The counted code and the one-line reason of an error that ends a connection. */
export function describeError(err: Error & { code?: string }, opened: boolean): [string, string] {
  const m = err.message;
  const refused = /^Unexpected server response: (\d+)/.exec(m);
  if (refused) return ['WS_UPGRADE_REFUSED', `upgrade refused with HTTP ${refused[1]}`];
  if (m === 'Opening handshake has timed out') return ['WS_HANDSHAKE_TIMEOUT', 'no WebSocket handshake within the connect timeout'];
  if (/subprotocol/i.test(m)) return ['WS_SUBPROTOCOL', `the server did not take the 'sip' subprotocol (${m})`];
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return ['WS_FRAME_TOO_LARGE', 'a frame over the size limit (closed with 1009)'];
  if (err.code === 'ECONNREFUSED') return ['TRANSPORT_CONNECT_REFUSED', 'connection refused'];
  if (err.code?.startsWith('WS_ERR_')) return ['WS_PROTOCOL', m];
  if (!opened && err.code && /CERT|SSL|TLS|SELF_SIGNED|ERR_TLS/.test(err.code)) return [`TLS_${err.code}`, `TLS handshake failed: ${m}`];
  return [`TRANSPORT_${err.code ?? 'ERROR'}`, m];
}

function isKeepAlive(data: Buffer): boolean {
  if (data.length > 8) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== 13 && data[i] !== 10) return false;
  return true;
}
