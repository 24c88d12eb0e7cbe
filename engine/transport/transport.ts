// The transport contract (RFC 3261 §18): a socket that sends whole SIP
// messages to an endpoint and hands up whole messages it receives. Datagram
// and stream transports differ only in `reliable`; the WebSocket transport
// (RFC 7118, ws.ts) is one more implementation of this interface.

export type Protocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Transports whose bytes are framed by Content-Length (RFC 3261 §18.3); a WebSocket frame is one whole message. */
export function isStreamProtocol(p: Protocol): boolean {
  return p === 'tcp' || p === 'tls';
}

/** The port a SIP URI or target without one means (RFC 3261 §19.1.2; RFC 7118 §5: ws 80, wss 443). */
export function defaultPort(p: Protocol): number {
  return p === 'tls' ? 5061 : p === 'ws' ? 80 : p === 'wss' ? 443 : 5060;
}

export interface Endpoint {
  protocol: Protocol;
  /** IP literal; IPv6 without brackets. */
  host: string;
  port: number;
  /**
   * On a destination: the local port of the socket to send from, when the sender has several (one socket per UA);
   * on a source: the local port of the socket it came in on. Absent: the one default socket.
   */
  localPort?: number;
}

export interface TransportEvents {
  /** One whole SIP message (framed by Content-Length on streams). */
  onMessage(data: Buffer, source: Endpoint): void;
  /** A counted fault: never thrown, the transport keeps serving. */
  onError(code: string, detail: string, source?: Endpoint): void;
  /**
   * Streams: a connection is gone (refused, TLS handshake failed, reset, closed by the peer, dropped by us for
   * a framing error). `code` is the error already counted through onError, or TRANSPORT_CLOSED for a plain
   * close (not counted: whether it hurt depends on what waited on it).
   */
  onConnectionLost?(remote: Endpoint, code: string, detail: string): void;
  /** WebSocket: a connection we opened is ready (TCP, TLS and the HTTP upgrade done) after `ms`. */
  onConnected?(remote: Endpoint, ms: number): void;
}

export interface TransportCounters {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  errors: Record<string, number>;
}

export interface Transport {
  readonly protocol: Protocol;
  readonly reliable: boolean;
  readonly local: Endpoint;
  readonly counters: TransportCounters;
  send(data: Buffer, dest: Endpoint): void;
  close(): Promise<void>;
}

export interface TlsOptions {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  /** Off only when explicitly asked (--tls-insecure): staging servers with self-signed certificates. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

export interface TransportLimits {
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /** Messages queued per connection while it connects. */
  maxQueue?: number;
  /** Longest wait for a TCP connection or TLS handshake, ours or a peer's (default 10 s). */
  connectTimeoutMs?: number;
  /** Listening: connections accepted at once; the least useful is closed for a new one (see connection-guard.ts). */
  maxConnections?: number;
  /** Listening: connections accepted at once from one remote address. */
  maxConnectionsPerAddress?: number;
  /** Listening: a connection must deliver a whole message within this of opening, or of a message's first byte. */
  messageTimeoutMs?: number;
}

export interface TransportOptions {
  protocol: Protocol;
  host: string;
  port: number;
  events: TransportEvents;
  tls?: TlsOptions;
  limits?: TransportLimits;
  /** Stream transports: accept incoming connections (servers), not only connect out. WebSocket: only one or the other. */
  listen?: boolean;
  ws?: WsOptions;
  /** Sees every whole message sent and received (--trace, --pcap); absent, the send and receive paths skip it. */
  tap?: TransportTap;
  /** TLS: each line of key material for an SSLKEYLOGFILE (Node's 'keylog' event; --tls-keylog). */
  keylog?: (line: Buffer) => void;
}

/** WebSocket settings (RFC 7118): the HTTP upgrade a client sends, and the limits of both sides. */
export interface WsOptions {
  /** Client: the request path of the upgrade (default '/'); server: the only path accepted (default any). */
  path?: string;
  /** Client: the Origin header of the upgrade (browsers always send one). */
  origin?: string;
  /** Client: extra headers of the upgrade (a token or cookie a WebRTC gateway asks for). */
  headers?: Record<string, string>;
  /** Largest frame taken; a bigger one closes the connection with 1009 (default: the header and body limits together). */
  maxFrameBytes?: number;
  /** A ping this often; a connection that did not answer the last one by the next is closed (default 30 s, 0: none). */
  pingIntervalMs?: number;
}

/**
 * A message as it went on the wire: `local` is the socket's own address and port (on streams the connection's,
 * not the listening port), `remote` the peer's.
 */
export interface TransportTap {
  message(received: boolean, protocol: Protocol, data: Buffer, localHost: string, localPort: number, remoteHost: string, remotePort: number): void;
}

export function endpointKey(e: { host: string; port: number }): string {
  return `${e.host}|${e.port}`;
}

export function newCounters(): TransportCounters {
  return { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, errors: {} };
}

export function countError(counters: TransportCounters, code: string): void {
  counters.errors[code] = (counters.errors[code] ?? 0) + 1;
}
