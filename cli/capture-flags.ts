// --trace, --trace-failed, --pcap, their size caps and --tls-keylog of `run`:
// read and checked (sizes, writable files) before any traffic, turned into
// the run's CaptureSession; a file that cannot be written is bad input (exit 2).

import { UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { CaptureSession } from '../engine/capture/index.js';
import { captureWanted, DEFAULT_CAPTURE_MAX_BYTES, type CaptureFiles } from '../engine/capture/capture-files.js';

const MIB = 1024 * 1024;

export const captureFlagSpecs: FlagSpec[] = [
  { name: 'trace', type: 'string', value: 'FILE', help: "write every SIP message sent and received, as text, secrets masked (SIPp's -trace_msg)" },
  { name: 'trace-failed', type: 'string', value: 'FILE', help: 'write the messages of every failed instance, as text, secrets masked' },
  { name: 'trace-max-bytes', type: 'string', value: 'SIZE', help: `cap of each trace file, e.g. 500M (default ${DEFAULT_CAPTURE_MAX_BYTES / MIB}M); the file and the result say when it cut the trace` },
  { name: 'pcap', type: 'string', value: 'FILE', help: "write the run's own SIP traffic as pcapng for Wireshark/tshark (TLS written decrypted), secrets masked" },
  { name: 'pcap-max-bytes', type: 'string', value: 'SIZE', help: `cap of the pcapng file (default ${DEFAULT_CAPTURE_MAX_BYTES / MIB}M)` },
  { name: 'tls-keylog', type: 'string', value: 'FILE', help: 'TLS: write the session keys in SSLKEYLOGFILE format (to decrypt a capture taken on the wire)' },
];

/** A size in bytes: a whole number, or with K, M or G (powers of 1024). */
function byteSize(f: ParsedArgs['flags'], name: string): number | undefined {
  const raw = f[name];
  if (raw === undefined) return undefined;
  const m = /^(\d+)([KMG]?)i?B?$/i.exec(String(raw).trim());
  const n = m ? Number(m[1]) * ({ '': 1, K: 1024, M: MIB, G: 1024 * MIB }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G']) : NaN;
  if (!Number.isSafeInteger(n) || n < 1024) throw new UsageError(`--${name} must be a size of at least 1024 bytes like 1048576, 64K, 500M or 2G, got '${String(raw)}'`);
  return n;
}

/** The run's capture, or undefined without any capture flag. Creates the output files (empty) to prove them writable. */
export async function readCaptureFlags(f: ParsedArgs['flags']): Promise<CaptureSession | undefined> {
  const files: CaptureFiles = {
    trace: f.trace as string | undefined,
    traceFailed: f['trace-failed'] as string | undefined,
    pcap: f.pcap as string | undefined,
    tlsKeylog: f['tls-keylog'] as string | undefined,
    traceMaxBytes: byteSize(f, 'trace-max-bytes'),
    pcapMaxBytes: byteSize(f, 'pcap-max-bytes'),
  };
  if (!captureWanted(files)) return undefined;
  // The writers (pcapng, trace, merge) are loaded only for a run that captures.
  const { CaptureFileError, CaptureSession } = await import('../engine/capture/index.js');
  const named = [files.trace, files.traceFailed, files.pcap, files.tlsKeylog].filter((x) => x !== undefined);
  if (new Set(named).size < named.length) throw new UsageError('--trace, --trace-failed, --pcap and --tls-keylog need different files');
  try {
    return new CaptureSession(files);
  } catch (err) {
    if (err instanceof CaptureFileError) throw new UsageError(err.message);
    throw err;
  }
}
