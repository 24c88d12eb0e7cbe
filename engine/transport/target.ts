// Where the traffic goes: `--target` text (sip:host:port;transport=tcp,
// sips:host, host:port, [::1]:5060, ws://host:port/path, wss://host,
// sip:host;transport=ws) resolved to an Endpoint. Bad text is bad
// input (exit 2) with one line saying what is wrong.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SipstormError } from '../errors.js';
import { hostText } from '../codec/index.js';
import { defaultPort, type Endpoint, type Protocol } from './transport.js';

export interface Target {
  endpoint: Endpoint;
  /** Host as the user wrote it (used as the domain of URIs). */
  hostText: string;
  uri: string;
  /** WebSocket: the request path of the upgrade (RFC 7118 §5; '/' when the URL names none). */
  path?: string;
}

export class TargetError extends SipstormError {
  constructor(message: string) {
    super('BAD_TARGET', message);
  }
}

export function parseTargetText(text: string): { scheme: 'sip' | 'sips'; host: string; port?: number; protocol: Protocol; path?: string } {
  const raw = text.trim();
  if (raw === '') throw new TargetError('target is empty: give sip:HOST:PORT or HOST:PORT');
  let rest = raw;
  let scheme: 'sip' | 'sips' = 'sip';
  const m = /^(sips?):/i.exec(rest);
  const url = /^(wss?):\/\/([^/?#]*)([^#]*)$/i.exec(rest);
  if (url) {
    // RFC 7118 §5: a WebSocket URL; the path goes into the upgrade request, the host and port are the server's.
    const protocol = url[1]!.toLowerCase() as 'ws' | 'wss';
    const addr = parseTargetText(url[2]!);
    if (addr.protocol !== 'udp') throw new TargetError(`target '${raw}': a ws:// or wss:// URL takes no ;transport=`);
    return { scheme: 'sip', host: addr.host, port: addr.port, protocol, path: url[3] || '/' };
  }
  if (m) {
    scheme = m[1]!.toLowerCase() as 'sip' | 'sips';
    rest = rest.slice(m[0].length);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    throw new TargetError(`target '${raw}' is not a SIP URI or HOST:PORT`);
  }
  const at = rest.indexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  const [hostport, ...params] = rest.split(';');
  let protocol: Protocol = scheme === 'sips' ? 'tls' : 'udp';
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.toLowerCase() === 'transport') {
      const t = (v ?? '').toLowerCase();
      if (t !== 'udp' && t !== 'tcp' && t !== 'tls' && t !== 'ws' && t !== 'wss') throw new TargetError(`target '${raw}': unknown transport '${v}' (udp, tcp, tls, ws, wss)`);
      protocol = t;
    }
  }
  let host: string;
  let portText: string | undefined;
  const hp = hostport ?? '';
  if (hp.startsWith('[')) {
    const close = hp.indexOf(']');
    if (close < 0) throw new TargetError(`target '${raw}': unterminated IPv6 address`);
    host = hp.slice(1, close);
    const after = hp.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) throw new TargetError(`target '${raw}': junk after IPv6 address`);
      portText = after.slice(1);
    }
    if (isIP(host) !== 6) throw new TargetError(`target '${raw}': '${host}' is not an IPv6 address`);
  } else {
    const parts = hp.split(':');
    if (parts.length > 2) throw new TargetError(`target '${raw}': write IPv6 addresses in brackets, e.g. [::1]:5060`);
    host = parts[0]!;
    portText = parts[1];
  }
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new TargetError(`target '${raw}': bad host '${host}'`);
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      throw new TargetError(`target '${raw}': port must be 1..65535, got '${portText}'`);
    }
    port = Number(portText);
  }
  return { scheme, host, port, protocol };
}

export async function resolveTarget(text: string): Promise<Target> {
  const t = parseTargetText(text);
  let address = t.host;
  if (!isIP(address)) {
    try {
      address = (await lookup(t.host)).address;
    } catch {
      throw new TargetError(`target '${text}': cannot resolve host '${t.host}'`);
    }
  }
  const port = t.port ?? defaultPort(t.protocol);
  const host = hostText(t.host);
  const transportParam = t.protocol === 'udp' || t.protocol === 'tls' ? '' : `;transport=${t.protocol}`;
  return {
    endpoint: { protocol: t.protocol, host: address, port },
    hostText: host,
    // The SIP URI of the target (the Request-URI of requests to it); a WebSocket URL's path is kept beside it.
    uri: `${t.scheme}:${host}:${port}${transportParam}`,
    ...(t.protocol === 'ws' || t.protocol === 'wss' ? { path: t.path ?? '/' } : {}),
  };
}
