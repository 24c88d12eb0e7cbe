// The capture flags' files and caps as plain data, apart from CaptureSession
// (session.ts) so that the command line reads them without loading the
// writers: a run without --trace/--pcap never loads them.

/** Default cap of each file: enough for about 200,000 messages, a size a laptop opens in Wireshark. */
export const DEFAULT_CAPTURE_MAX_BYTES = 100 * 1024 * 1024;

export interface CaptureFiles {
  trace?: string;
  traceFailed?: string;
  pcap?: string;
  tlsKeylog?: string;
  traceMaxBytes?: number;
  pcapMaxBytes?: number;
}

/** Any capture flag given? */
export function captureWanted(files: CaptureFiles): boolean {
  return Boolean(files.trace || files.traceFailed || files.pcap || files.tlsKeylog);
}
