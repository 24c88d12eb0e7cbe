// What the merge hands records to, in time order: the text trace and the pcapng.

import type { CaptureRecord } from './record.js';

export interface CaptureSink {
  readonly file: string;
  readonly maxBytes: number;
  bytes: number;
  /** Messages written (notes not counted). */
  messages: number;
  truncated: boolean;
  notWritten: number;
  add(r: CaptureRecord): void;
  /** `notWrittenByWorkers`: messages the workers' own caps kept out of their parts; `incompleteParts`: workers that did not finish theirs. */
  close(notWrittenByWorkers: number, incompleteParts: number): void;
}
