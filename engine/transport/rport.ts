// Where responses go (RFC 3261 §18.2.2 with RFC 3581 rport): a server stamps
// received/rport on the top Via of a request and answers to that address; on
// streams, back over the connection the request came on.

import { bareHost, type SipMessage } from '../codec/index.js';
import type { Endpoint } from './transport.js';

/** RFC 3261 §18.2.1 + RFC 3581 §4: add received= when sent-by differs from the source; fill rport. */
export function stampReceived(req: SipMessage, source: Endpoint): void {
  const values = req.getAll('Via');
  if (values.length === 0) return;
  const via = req.topVia();
  let top = values[0]!;
  const sentByHost = bareHost(via.host);
  if (sentByHost !== source.host && !via.params.has('received')) top += `;received=${source.host}`;
  if (via.params.has('rport') && via.params.get('rport') === null) {
    top = top.replace(/;\s*rport(?=;|$)/i, `;rport=${source.port}`);
  }
  if (top === values[0]) return;
  req.removeFirst('Via');
  req.prepend('Via', top);
}

export function responseDestination(req: SipMessage, source: Endpoint): Endpoint {
  if (source.protocol !== 'udp') return source; // same connection
  const via = req.topVia();
  const rport = via.params.get('rport');
  if (rport) return { protocol: 'udp', host: source.host, port: Number(rport) };
  const received = via.params.get('received');
  const host = received ?? bareHost(via.host);
  return { protocol: 'udp', host, port: via.port ?? 5060 };
}
