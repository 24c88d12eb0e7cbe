// Messages between the coordinator (main thread) and its workers. Errors cross
// as { code, message }: classes do not survive structured cloning, codes do.

import type { RuntimeConfig } from '../ua/index.js';
import type { RunSnapshot } from '../metrics/index.js';
import type { LoadOverrides } from './runner.js';
import type { Part } from './segment.js';
import type { SharedCap } from './concurrency.js';

/** What a worker's runtime needs (RuntimeConfig), and its share of the load. */
export interface WorkerConfig extends RuntimeConfig {
  part: Part;
  overrides: LoadOverrides;
  stopOnFirstFailure: boolean;
  drainMs: number;
  /** The run-wide counters of running instances per role (maxConcurrent), shared by all workers. */
  cap?: SharedCap;
  /** false: --no-warm-up (warm-up.ts); otherwise the worker warms up when its load asks for it. */
  warmUp?: boolean;
}

export type ToWorker =
  /** `resume`: this worker replaces one that crashed (times are epoch ms; see RunnerOptions.resume). */
  | { type: 'start'; at: number; resume?: { at: number; accounted: number[] } }
  | { type: 'stop'; drainMs: number };

export type FromWorker =
  | { type: 'ready' }
  /** Taken at whole second `second` after the run's start instant (the coordinator adds them up second by second). */
  | { type: 'snapshot'; snapshot: RunSnapshot; running: number; second: number }
  | { type: 'done'; snapshot: RunSnapshot }
  | { type: 'error'; code: string; message: string };
