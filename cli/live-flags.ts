// Flags of the live endpoints of `sipstorm run`: --metrics-port/--metrics-host
// (Prometheus text at /metrics), --dashboard (the live page) and
// --metrics-linger (how long both stay up after the reports are written).
// Checked with the other flags, before any traffic.

import { isIP } from 'node:net';
import { numberFlag, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import { parseDuration } from '../engine/scenario/index.js';
import type { LiveOptions } from '../live/endpoints.js';

export const liveFlagSpecs: FlagSpec[] = [
  { name: 'metrics-port', type: 'string', value: 'PORT', help: 'serve Prometheus metrics at http://HOST:PORT/metrics during the run (0: any free port, printed)' },
  { name: 'metrics-host', type: 'string', value: 'ADDR', help: 'address for --metrics-port and --dashboard (default 127.0.0.1; 0.0.0.0 in a container scraped from outside)' },
  { name: 'metrics-linger', type: 'string', value: 'TIME', help: 'keep --metrics-port and --dashboard up this long after the reports are written, so the last scrape sees the end (default 0s)' },
  { name: 'dashboard', type: 'string', value: 'PORT', help: 'serve a live dashboard at http://HOST:PORT/ during the run, with the final report at the end (0: any free port, printed)' },
];

function port(f: ParsedArgs['flags'], name: string): number | undefined {
  const p = numberFlag(f, name, { min: 0, integer: true });
  if (p !== undefined && p > 65535) throw new UsageError(`--${name} must be a port from 0 to 65535, got '${f[name]}'`);
  return p;
}

export function parseLiveFlags(f: ParsedArgs['flags']): LiveOptions {
  const metricsPort = port(f, 'metrics-port');
  const dashboardPort = port(f, 'dashboard');
  const host = f['metrics-host'] === undefined ? '127.0.0.1' : String(f['metrics-host']);
  if (!isIP(host)) throw new UsageError(`--metrics-host must be an IPv4 or IPv6 address, got '${host.slice(0, 60)}'`);
  let lingerMs = 0;
  if (f['metrics-linger'] !== undefined) {
    const d = parseDuration(String(f['metrics-linger']));
    if (d === undefined || d < 0) throw new UsageError(`--metrics-linger must be a time like 15s or 0s, got '${f['metrics-linger']}'`);
    lingerMs = d;
  }
  if (metricsPort === undefined && dashboardPort === undefined && (f['metrics-host'] !== undefined || f['metrics-linger'] !== undefined)) {
    throw new UsageError('--metrics-host and --metrics-linger need --metrics-port or --dashboard');
  }
  return { host, metricsPort, dashboardPort, lingerMs };
}
