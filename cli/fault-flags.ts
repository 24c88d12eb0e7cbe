// Flags for the embedded server's fault knobs, shared by `serve` and by `run`
// (which starts the server in-process when no --target is given).

import { numberFlag, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { ServerFaults } from '../engine/server/index.js';

export const faultFlagSpecs: FlagSpec[] = [
  { name: 'fault-delay', type: 'string', value: 'MS|MIN-MAX', help: 'embedded server: delay every answer (fixed or uniform random, ms)' },
  { name: 'fault-drop', type: 'string', value: 'RATE', help: 'embedded server: silently drop this share of requests (0..1)' },
  { name: 'fault-error', type: 'string', value: 'RATE', help: 'embedded server: answer this share of requests with --fault-code' },
  { name: 'fault-code', type: 'string', value: 'CODE', help: 'embedded server: the error code for --fault-error (default 503)' },
  { name: 'fault-pause', type: 'string', value: 'MS[@AT]', help: 'embedded server: hold all requests for MS ms, starting AT ms after start' },
  { name: 'fault-no-to-tag', type: 'boolean', help: 'embedded server: leave the To tag out of responses (a conformance bug on purpose)' },
  { name: 'fault-mangle-via', type: 'boolean', help: 'embedded server: change the branch of the top Via in responses' },
  { name: 'fault-no-100', type: 'boolean', help: 'embedded server: send no 100 Trying to INVITE' },
  { name: 'fault-rtp-drop', type: 'string', value: 'RATE', help: 'embedded server RTP echo: drop this share of the packets echoed (0..1, exact: 0.05 is 1 in 20)' },
  { name: 'fault-rtp-jitter', type: 'string', value: 'MS', help: 'embedded server RTP echo: move every other packet\'s RTP timestamp MS ms back (reads as RFC 3550 jitter of MS)' },
  { name: 'fault-rtp-reorder', type: 'string', value: 'RATE', help: 'embedded server RTP echo: send this share of packets after the next one (0..1)' },
  { name: 'fault-rtp-one-way', type: 'boolean', help: 'embedded server RTP echo: echo nothing (one-way audio)' },
];

/** Per-connection buffer limits of stream transports, shared by run and serve. */
export const limitFlagSpecs: FlagSpec[] = [
  { name: 'max-header-bytes', type: 'string', value: 'N', help: 'TCP/TLS: largest header section accepted (default 65536); a peer over it is disconnected and counted' },
  { name: 'max-body-bytes', type: 'string', value: 'N', help: 'TCP/TLS: largest Content-Length accepted (default 1048576)' },
];

export function parseLimitFlags(f: ParsedArgs['flags']): { maxHeaderBytes?: number; maxBodyBytes?: number } {
  const maxHeaderBytes = numberFlag(f, 'max-header-bytes', { min: 1024, integer: true });
  const maxBodyBytes = numberFlag(f, 'max-body-bytes', { min: 0, integer: true });
  return { ...(maxHeaderBytes !== undefined ? { maxHeaderBytes } : {}), ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) };
}

export function parseFaultFlags(f: ParsedArgs['flags']): ServerFaults {
  const faults: ServerFaults = {};
  const delay = f['fault-delay'];
  if (typeof delay === 'string') {
    const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(delay.trim());
    if (!m) throw new UsageError(`--fault-delay must be milliseconds or MIN-MAX, got '${delay}'`);
    faults.delayMs = m[2] === undefined ? Number(m[1]) : { min: Number(m[1]), max: Number(m[2]) };
  }
  for (const [flag, key] of [['fault-drop', 'dropRate'], ['fault-error', 'errorRate'], ['fault-rtp-drop', 'rtpDropRate'], ['fault-rtp-reorder', 'rtpReorderRate']] as const) {
    const v = numberFlag(f, flag, { min: 0 });
    if (v === undefined) continue;
    if (v > 1) throw new UsageError(`--${flag} is a share between 0 and 1, got '${v}'`);
    faults[key] = v;
  }
  const code = numberFlag(f, 'fault-code', { integer: true });
  if (code !== undefined) {
    if (code < 300 || code > 699) throw new UsageError(`--fault-code must be an error code 300..699, got '${code}'`);
    faults.errorCode = code;
  }
  const pause = f['fault-pause'];
  if (typeof pause === 'string') {
    const m = /^(\d+)(?:@(\d+))?$/.exec(pause.trim());
    if (!m) throw new UsageError(`--fault-pause must be MS or MS@AT (milliseconds), got '${pause}'`);
    faults.pauseMs = Number(m[1]);
    if (m[2] !== undefined) faults.pauseAtMs = Number(m[2]);
  }
  if (f['fault-no-to-tag']) faults.noToTag = true;
  if (f['fault-mangle-via']) faults.mangleVia = true;
  if (f['fault-no-100']) faults.no100 = true;
  const jitter = numberFlag(f, 'fault-rtp-jitter', { min: 0 });
  if (jitter !== undefined) faults.rtpJitterMs = jitter;
  if (f['fault-rtp-one-way']) faults.rtpOneWay = true;
  return faults;
}
