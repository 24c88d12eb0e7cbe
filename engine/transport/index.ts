// Transports: the public surface of engine/transport.

import { createStreamTransport } from './stream.js';
import { createUdpTransport } from './udp.js';
import type { Transport, TransportOptions } from './transport.js';

export * from './transport.js';
export { resolveTarget, parseTargetText, TargetError, type Target } from './target.js';
export { stampReceived, responseDestination } from './rport.js';

export function createTransport(opts: TransportOptions): Promise<Transport> {
  // The WebSocket transport and the `ws` package are loaded by the first ws/wss transport only.
  if (opts.protocol === 'ws' || opts.protocol === 'wss') return import('./ws.js').then((ws) => ws.createWsTransport(opts));
  return opts.protocol === 'udp' ? createUdpTransport(opts) : createStreamTransport(opts);
}
export { probeTarget, type ProbeResult } from './probe.js';
