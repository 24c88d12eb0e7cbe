// The merge at the end of a run: the workers' part files, each in its own
// time order, read side by side and handed to the sinks oldest record first
// (ties in part order), so the trace and the pcapng read as one timeline.
// The parts' trailers add up the messages the workers' caps kept out; a part
// without one is a worker that did not finish.

import { PartReader, Kind, type CaptureRecord } from './record.js';
import type { CaptureSink } from './sink.js';

export interface MergeOutcome {
  /** Messages the workers' own caps kept out of their parts. */
  notWrittenByWorkers: number;
  /**
   * Parts without their trailer: a worker that crashed or was terminated. What it had written is in; what it still
   * held in its buffer is lost, uncounted.
   */
  incompleteParts: number;
}

/**
 * `grouped` (--trace-failed): a part is blocks, a Note and the messages after it, in the order of the Notes' times;
 * blocks are merged whole, by their Note's time, so that an instance's messages stay together under its header.
 */
export function mergeParts(files: string[], sinks: CaptureSink[], grouped = false): MergeOutcome {
  const readers = files.map((f) => new PartReader(f));
  const heads: (CaptureRecord | undefined)[] = readers.map((r) => r.next());
  const blockAt: number[] = heads.map((h) => h?.t ?? 0);
  const key = (i: number) => {
    const h = heads[i]!;
    return !grouped || h.kind === Kind.Note ? h.t : blockAt[i]!;
  };
  let notWrittenByWorkers = 0;
  let trailers = 0;
  try {
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        if (heads[i] && (best < 0 || key(i) < key(best))) best = i;
      }
      if (best < 0) break;
      const r = heads[best]!;
      if (r.kind === Kind.Note) blockAt[best] = r.t;
      heads[best] = readers[best]!.next();
      if (r.kind === Kind.Trailer) {
        notWrittenByWorkers += r.payload.readUInt32LE(0);
        trailers++;
        continue;
      }
      for (const s of sinks) s.add(r);
    }
  } finally {
    for (const r of readers) r.close();
  }
  return { notWrittenByWorkers, incompleteParts: files.length - trailers };
}
