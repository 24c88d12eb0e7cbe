// Proxy-lite (RFC 3261 §16): forwards requests to registered contacts or to
// the next hop of a loose route, record-routing dialog-creating requests so
// that ACK and BYE pass through us, statefully (one client transaction per
// forwarded request, responses sent back through the server transaction),
// with CANCEL forwarded hop by hop (§16.10).

import { isIP } from 'node:net';
import { bareHost, newBranch, SipMessage, parseUri, serializeMessage } from '../codec/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import { defaultPort, type Endpoint } from '../transport/index.js';
import { bump, type ServerCore } from './core.js';

interface Forwarded {
  request: SipMessage;
  dest: Endpoint;
  final: boolean;
}

export class Proxy {
  /** INVITE server transaction -> what we sent downstream (for CANCEL). */
  private readonly forwarded = new WeakMap<ServerTransaction, Forwarded>();

  constructor(private readonly core: ServerCore) {}

  /** §16.6: copy, retarget, decrement Max-Forwards, Record-Route, add our Via, send. */
  forward(tx: ServerTransaction, targetUri: string, dest: Endpoint, recordRoute: boolean): void {
    const core = this.core;
    const req = tx.request;
    const mf = req.maxForwards() ?? 70;
    if (mf <= 0) {
      core.answer(tx, 483); // §16.3 step 2
      return;
    }
    if (!isIP(dest.host) && dest.host.toLowerCase() !== 'localhost') {
      // No DNS here (loopback use). §16.9: a next hop the transport cannot reach is as if it answered 503.
      core.answer(tx, 503, { reason: 'Service Unavailable (the embedded server forwards to IP addresses only)' });
      return;
    }
    const out = new SipMessage({ isRequest: true, method: req.method, uri: targetUri, headers: req.headers.map((h) => ({ ...h })), body: req.body });
    out.set('Max-Forwards', String(mf - 1));
    if (recordRoute) {
      // Each Record-Route names the transport (and port) of its side. When the request leaves on another transport
      // than it came in on, two (RFC 5658 §3, "double record-routing"): the top one for the side it leaves on,
      // the next for the side it came from, so that each UA's route set starts at the address it can reach.
      const inbound = tx.responseDest.protocol;
      out.prepend('Record-Route', recordRouteOf(core, inbound));
      if (inbound !== dest.protocol) out.prepend('Record-Route', recordRouteOf(core, dest.protocol));
    }
    out.prepend('Via', core.via(dest.protocol));
    const state: Forwarded = { request: out, dest, final: false };
    if (req.method === 'INVITE') {
      this.forwarded.set(tx, state);
      core.stats.callsProxied++;
    }
    bump(core.stats.requests, `${req.method}(forwarded)`);
    core.sendRequest(out, dest, {
      onResponse: (res) => {
        if (res.status === 100) return; // §16.7 step 3: 100 is not forwarded (we sent our own)
        if (res.status >= 200) state.final = true;
        // §16.7 step 3: remove our Via, send the rest upstream.
        const up = new SipMessage({ isRequest: false, status: res.status, reason: res.reason, headers: res.headers.map((h) => ({ ...h })), body: res.body });
        up.removeFirst('Via');
        bump(core.stats.responses, `${res.status}(forwarded)`);
        tx.respond(up);
      },
      onTimeout: () => {
        if (!state.final) core.answer(tx, 408);
      },
      // §16.9: "If the transport layer notifies a proxy of an error when it tries to forward a request, the proxy
      // MUST behave as if the forwarded request received a 503 (Service Unavailable) response."
      onTransportError: () => {
        if (!state.final) core.answer(tx, 503);
      },
    });
    if (req.method === 'INVITE' && !core.faults.no100) core.answer(tx, 100);
  }

  /** ACK for a 2xx and other stateless forwards (§16.11). */
  forwardStateless(req: SipMessage, targetUri: string, dest: Endpoint): void {
    const core = this.core;
    const out = new SipMessage({ isRequest: true, method: req.method, uri: targetUri, headers: req.headers.map((h) => ({ ...h })), body: req.body });
    const mf = req.maxForwards() ?? 70;
    if (mf <= 0) return;
    out.set('Max-Forwards', String(mf - 1));
    out.prepend('Via', core.via(dest.protocol, newBranch()));
    bump(core.stats.requests, `${req.method}(forwarded)`);
    core.layer.sendStateless(serializeMessage(out), dest);
  }

  /** §16.10: CANCEL answered here with 200; a CANCEL goes downstream if no final response came yet. */
  cancel(inviteTx: ServerTransaction): boolean {
    const state = this.forwarded.get(inviteTx);
    if (!state) return false;
    if (!state.final) {
      const inv = state.request;
      const cancel = new SipMessage({ isRequest: true, method: 'CANCEL', uri: inv.uri });
      cancel.add('Via', inv.getAll('Via')[0]!);
      cancel.add('Max-Forwards', '70');
      for (const name of ['From', 'To', 'Call-ID'] as const) cancel.add(name, inv.get(name)!);
      cancel.add('CSeq', `${inv.cseq().seq} CANCEL`);
      for (const r of inv.getAll('Route')) cancel.add('Route', r);
      this.core.sendRequest(cancel, state.dest, { onResponse: () => {}, onTimeout: () => {} });
    }
    return true;
  }
}

function recordRouteOf(core: ServerCore, protocol: Endpoint['protocol']): string {
  return `<sip:${core.hostPort(protocol)};lr${protocol === 'udp' ? '' : `;transport=${protocol}`}>`;
}

/**
 * Where a URI points: its host and port over the transport it names (RFC 3263 §4.1 without NAPTR: `transport=`,
 * else TLS for sips:, else UDP; maddr and DNS left out: loopback use).
 */
export function uriDestination(uriText: string): Endpoint {
  const u = parseUri(uriText);
  const t = u.params.get('transport')?.toLowerCase();
  const proto = t === 'tcp' || t === 'tls' || t === 'udp' || t === 'ws' || t === 'wss' ? (u.scheme === 'sips' && t === 'tcp' ? 'tls' : t) : u.scheme === 'sips' ? 'tls' : 'udp';
  const host = bareHost(u.host);
  return { protocol: proto, host, port: u.port ?? defaultPort(proto) };
}

