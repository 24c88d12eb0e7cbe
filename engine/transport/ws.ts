// WebSocket transport (RFC 7118): SIP over ws:// and wss://, on the `ws`
// package. A client (ws-client.ts: connects out, one connection per
// destination, opened at the first message) or a server (ws-server.ts: takes
// upgrades, answers over the connection a request came on); what a connection
// does on either side is in ws-connection.ts.

import { createWsClientTransport } from './ws-client.js';
import { createWsServerTransport } from './ws-server.js';
import type { Transport, TransportOptions } from './transport.js';

export function createWsTransport(opts: TransportOptions): Promise<Transport> {
  return opts.listen ? createWsServerTransport(opts) : createWsClientTransport(opts);
}
