// One run's capture (--trace, --trace-failed, --pcap, --tls-keylog), on the
// main thread: checks the output files can be written before any traffic,
// gives the workers a folder for their part files and their caps, and at the
// end merges the parts into the files asked for, says what each holds (the
// result's `captures`), and removes the parts.

import { closeSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SipstormError } from '../errors.js';
import type { CaptureFileSummary } from '../metrics/index.js';
import { mergeParts } from './merge.js';
import { PcapngWriter } from './pcapng.js';
import type { WorkerCapture } from './recorder.js';
import type { CaptureSink } from './sink.js';
import { TraceWriter } from './trace-writer.js';
import { captureWanted, DEFAULT_CAPTURE_MAX_BYTES, type CaptureFiles } from './capture-files.js';

export { DEFAULT_CAPTURE_MAX_BYTES, type CaptureFiles } from './capture-files.js';

export class CaptureFileError extends SipstormError {
  constructor(message: string) {
    super('CAPTURE_FILE', message);
  }
}

export class CaptureSession {
  /** Made at the first worker() (a run that ends before its traffic leaves no folder behind). */
  private dir: string | undefined;
  private readonly traceMax: number;
  private readonly pcapMax: number;

  /** Creates (empties) every output file now: one that cannot be written is said before any traffic. */
  constructor(private readonly files: CaptureFiles) {
    this.traceMax = files.traceMaxBytes ?? DEFAULT_CAPTURE_MAX_BYTES;
    this.pcapMax = files.pcapMaxBytes ?? DEFAULT_CAPTURE_MAX_BYTES;
    const outputs: [string, string | undefined][] = [['--trace', files.trace], ['--trace-failed', files.traceFailed], ['--pcap', files.pcap], ['--tls-keylog', files.tlsKeylog]];
    for (const [flag, file] of outputs) {
      if (!file) continue;
      try {
        closeSync(openSync(file, 'w'));
      } catch (err) {
        throw new CaptureFileError(`${flag} ${file}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
  }

  /** Any capture flag given? */
  static wanted(files: CaptureFiles): boolean {
    return captureWanted(files);
  }

  /** What each worker records. A part's cap is the largest of the files it feeds: its payloads alone would fill them. */
  worker(): WorkerCapture {
    const f = this.files;
    if (!this.dir) {
      // The parts go beside the first output: the same disk, which the user chose for the capture's size.
      const first = f.trace ?? f.pcap ?? f.traceFailed ?? f.tlsKeylog!;
      try {
        this.dir = mkdtempSync(join(dirname(resolve(first)), '.sipstorm-capture-'));
      } catch (err) {
        throw new CaptureFileError(`${first}: cannot make the folder of the workers' capture parts beside it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    }
    const allMax = Math.max(f.trace ? this.traceMax : 0, f.pcap ? this.pcapMax : 0);
    return {
      dir: this.dir,
      allMaxBytes: f.trace || f.pcap ? allMax : undefined,
      failedMaxBytes: f.traceFailed ? this.traceMax : undefined,
      keylogFile: f.tlsKeylog,
    };
  }

  /** Merges the workers' parts into the files; returns what each holds. The parts are removed, whatever happens. */
  finish(): CaptureFileSummary[] {
    const f = this.files;
    try {
      const dir = this.dir;
      const parts = dir ? readdirSync(dir).sort() : [];
      const of = (suffix: string) => parts.filter((p) => p.endsWith(suffix)).map((p) => join(dir!, p));
      const out: CaptureFileSummary[] = [];
      const run = (files: string[], sinks: [CaptureFileSummary['kind'], CaptureSink][], grouped = false) => {
        if (sinks.length === 0) return;
        const merged = mergeParts(files, sinks.map(([, s]) => s), grouped);
        for (const [kind, s] of sinks) {
          s.close(merged.notWrittenByWorkers, merged.incompleteParts);
          const notWritten = s.notWritten + merged.notWrittenByWorkers;
          const summary: CaptureFileSummary = { kind, file: s.file, messages: s.messages, bytes: s.bytes, maxBytes: s.maxBytes, truncated: notWritten > 0, notWritten };
          if (merged.incompleteParts > 0) summary.incompleteWorkers = merged.incompleteParts;
          out.push(summary);
        }
      };
      const all: [CaptureFileSummary['kind'], CaptureSink][] = [];
      if (f.trace) all.push(['trace', new TraceWriter(f.trace, this.traceMax)]);
      if (f.pcap) all.push(['pcap', new PcapngWriter(f.pcap, this.pcapMax)]);
      run(of('.all'), all);
      if (f.traceFailed) run(of('.failed'), [['trace-failed', new TraceWriter(f.traceFailed, this.traceMax)]], true);
      return out;
    } finally {
      this.discard();
    }
  }

  /** Removes the parts (a run that ends before its merge). */
  discard(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
