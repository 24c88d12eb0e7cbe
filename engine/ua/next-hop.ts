// Where an in-dialog request goes (RFC 3261 §12.2.1.1 with §8.1.2 and §18.1.1):
// "the UAC SHOULD use the first Route header field value as the next hop when
// the route set is not empty, else the Request-URI (the remote target)", over
// the transport that URI names (RFC 3263 §4.1: transport=, sips: means TLS, no
// parameter means UDP for sip:).
//
// sipstorm resolves no names while it runs and has sockets of one transport
// (the target's): a hop that names a host name, or a transport other than the
// run's, is sent to --target instead, which then acts as the outbound proxy.

import { bareHost, parseUri } from '../codec/index.js';
import { isIP } from 'node:net';
import { defaultPort, type Endpoint, type Protocol } from '../transport/index.js';

function uriOf(nameAddr: string): string {
  const m = /<([^>]*)>/.exec(nameAddr);
  return m ? m[1]! : nameAddr.split(';')[0]!.trim();
}

/**
 * The hops of the URIs met last, per transport, in this event loop: the dialogs of a run mostly share a
 * remote target (the UAS's Contact), which is parsed once instead of at every ACK and BYE. Bounded: emptied
 * when full. A hop is shared, so it is frozen; null stands for "no hop of ours".
 */
const HOPS = new Map<Protocol, Map<string, Readonly<Endpoint> | null>>();
const HOPS_MAX = 512;

/** The hop a URI points to, or undefined when sipstorm cannot reach it itself (a name, another transport). */
export function uriHop(uriText: string, protocol: Protocol): Endpoint | undefined {
  let known = HOPS.get(protocol);
  if (!known) HOPS.set(protocol, (known = new Map()));
  let hop = known.get(uriText);
  if (hop === undefined) {
    if (known.size >= HOPS_MAX) known.clear();
    hop = readHop(uriText, protocol) ?? null;
    known.set(uriText, hop === null ? null : Object.freeze(hop));
  }
  return hop ?? undefined;
}

function readHop(uriText: string, protocol: Protocol): Endpoint | undefined {
  let uri;
  try {
    uri = parseUri(uriText);
  } catch {
    return undefined;
  }
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return undefined;
  const host = bareHost(uri.host);
  if (isIP(host) === 0) return undefined;
  const param = uri.params.get('transport')?.toLowerCase();
  const named: Protocol = param === 'tcp' || param === 'tls' || param === 'udp' || param === 'ws' || param === 'wss' ? param : uri.scheme === 'sips' ? 'tls' : 'udp';
  // sips: over TCP is TLS (RFC 3261 §26.2.2); a transport=tcp of a sips: URI means TLS too.
  const hopProtocol: Protocol = uri.scheme === 'sips' && named === 'tcp' ? 'tls' : named;
  // RFC 7118 §5: `transport=ws` names WSS too (the URI does not say whether TLS is under the WebSocket).
  if (hopProtocol !== protocol && !(hopProtocol === 'ws' && protocol === 'wss')) return undefined;
  return { protocol, host, port: uri.port ?? defaultPort(protocol) };
}

/** §12.2.1.1: the first route of the dialog's route set (loose or strict router alike), or else its remote target. */
export function dialogHop(d: { routeSet: string[]; remoteTarget: string }, protocol: Protocol): Endpoint | undefined {
  const route = d.routeSet[0];
  return uriHop(route !== undefined ? uriOf(route) : d.remoteTarget, protocol);
}
