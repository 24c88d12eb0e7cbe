// Where a WebSocket UA is (RFC 7118 §5.2): a browser's Via and Contact name a
// random `.invalid` host that no one can connect to; the only way to it is the
// connection its requests came on. The server learns each such host from the
// top Via of the requests on a WebSocket connection, and a URI naming that
// host (a Contact, the remote target of a dialog it record-routes) resolves to
// that connection, until the connection closes.

import { parseUri, type SipMessage } from '../codec/index.js';
import { endpointKey, type Endpoint } from '../transport/index.js';

export function isInvalidHost(host: string): boolean {
  return /(^|\.)invalid$/i.test(host);
}

export class WsHosts {
  private readonly byHost = new Map<string, Endpoint>();
  /** The hosts learnt on each connection, to forget them when it closes. */
  private readonly ofConnection = new Map<string, Set<string>>();

  /** A request came over a WebSocket connection: its top Via's `.invalid` host is reached through it. */
  note(req: SipMessage, source: Endpoint): void {
    if (source.protocol !== 'ws' && source.protocol !== 'wss') return;
    const host = req.topVia().host.toLowerCase();
    if (!isInvalidHost(host) || this.byHost.get(host) === source) return;
    this.byHost.set(host, source);
    const conn = endpointKey(source);
    let set = this.ofConnection.get(conn);
    if (!set) this.ofConnection.set(conn, (set = new Set()));
    set.add(host);
  }

  /** The connection to the UA a URI names, when its host is one learnt here. */
  resolve(uriText: string): Endpoint | undefined {
    let host: string;
    try {
      host = parseUri(uriText).host.toLowerCase();
    } catch {
      return undefined;
    }
    return isInvalidHost(host) ? this.byHost.get(host) : undefined;
  }

  /** A connection closed: its UAs can no longer be reached. */
  forget(remote: Endpoint): void {
    const conn = endpointKey(remote);
    for (const host of this.ofConnection.get(conn) ?? []) {
      if (this.byHost.get(host) && endpointKey(this.byHost.get(host)!) === conn) this.byHost.delete(host);
    }
    this.ofConnection.delete(conn);
  }
}
