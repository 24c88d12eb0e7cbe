// --ws-origin and --ws-header of `run` and `conform`: what the HTTP upgrade of
// each WebSocket connection carries besides the `sip` subprotocol (a WebRTC
// gateway may check the Origin, or want a token in a header). Checked before
// any traffic; one line saying what is wrong.

import { UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { Target } from '../engine/transport/index.js';

export const wsFlagSpecs: FlagSpec[] = [
  { name: 'ws-origin', type: 'string', value: 'URL', help: 'WebSocket targets: the Origin header of the upgrade (as a browser sends), e.g. https://phone.example.com' },
  { name: 'ws-header', type: 'list', value: "'NAME: VALUE'", help: 'WebSocket targets: an extra header of the upgrade (repeatable), e.g. --ws-header "Authorization: Bearer T"' },
];

export interface WsFlags {
  origin?: string;
  headers?: Record<string, string>;
}

/** Headers the WebSocket handshake itself owns (RFC 6455 §4.1): giving one would break the upgrade. */
const OWN = new Set(['host', 'upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions', 'origin']);

export function readWsFlags(f: ParsedArgs['flags'], target: Target | undefined): WsFlags {
  const out: WsFlags = {};
  const origin = f['ws-origin'] as string | undefined;
  const list = f['ws-header'] === undefined ? [] : ([] as unknown[]).concat(f['ws-header']).map(String);
  if ((origin !== undefined || list.length > 0) && target && target.endpoint.protocol !== 'ws' && target.endpoint.protocol !== 'wss') {
    throw new UsageError(`--ws-origin and --ws-header apply to WebSocket targets (ws://, wss://); the target ${target.uri} is ${target.endpoint.protocol}`);
  }
  if (origin !== undefined) {
    if (!/^[\x21-\x7e]+$/.test(origin)) throw new UsageError(`--ws-origin '${origin}': an origin is one printable word, e.g. https://phone.example.com`);
    out.origin = origin;
  }
  for (const text of list) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([^\r\n]*)$/.exec(text);
    if (!m) throw new UsageError(`--ws-header '${text}': give 'Name: value' (a header name, a colon, a value on one line)`);
    if (OWN.has(m[1]!.toLowerCase())) throw new UsageError(`--ws-header '${text}': ${m[1]} is set by the WebSocket handshake itself${m[1]!.toLowerCase() === 'origin' ? ' (use --ws-origin)' : ''}`);
    (out.headers ??= {})[m[1]!] = m[2]!.trim();
  }
  return out;
}
