// Flags of `sipstorm serve` that bound what hostile or careless peers can
// hold: live calls of the built-in UAS, and TCP/TLS connections (total, per
// address, and how long a connection may take to deliver a message).

import { parseDuration } from '../engine/scenario/index.js';
import { numberFlag, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { TransportLimits } from '../engine/transport/index.js';

export const serveLimitFlagSpecs: FlagSpec[] = [
  { name: 'max-calls', type: 'string', value: 'N', help: 'live calls of the built-in users; a new INVITE beyond them gets 503 with Retry-After (default 10000)' },
  { name: 'max-connections', type: 'string', value: 'N', help: 'TCP/TLS connections accepted at once; beyond it the least useful open one is closed (default 10000, or the open-file limit less 100)' },
  { name: 'max-connections-per-address', type: 'string', value: 'N', help: 'TCP/TLS connections accepted at once from one address (default 1000)' },
  { name: 'message-timeout', type: 'string', value: 'TIME', help: 'TCP/TLS: a connection that opens or starts a message must complete it within this, or is closed (default 20s)' },
];

export function parseServeLimitFlags(f: ParsedArgs['flags']): { maxCalls?: number; limits: TransportLimits } {
  const maxCalls = numberFlag(f, 'max-calls', { min: 1, integer: true });
  const limits: TransportLimits = {};
  const maxConnections = numberFlag(f, 'max-connections', { min: 1, integer: true });
  if (maxConnections !== undefined) limits.maxConnections = maxConnections;
  const perAddress = numberFlag(f, 'max-connections-per-address', { min: 1, integer: true });
  if (perAddress !== undefined) limits.maxConnectionsPerAddress = perAddress;
  if (f['message-timeout'] !== undefined) {
    const ms = parseDuration(String(f['message-timeout']));
    if (ms === undefined || ms < 1) throw new UsageError(`--message-timeout must be a time like 20s or 500ms, got '${String(f['message-timeout'])}'`);
    limits.messageTimeoutMs = ms;
  }
  return { maxCalls, limits };
}
