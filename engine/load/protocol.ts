// Messages between the coordinator (main thread) and its workers. Errors cross
// as { code, message }: classes do not survive structured cloning, codes do.

import type { CompiledScenario } from '../scenario/index.js';
import type { Endpoint } from '../transport/index.js';
import type { Credentials } from '../ua/index.js';
import type { RunSnapshot } from '../metrics/index.js';
import type { LoadOverrides } from './runner.js';
import type { Part } from './segment.js';

export interface WorkerConfig {
  scenario: CompiledScenario;
  target: Endpoint;
  targetHostText: string;
  targetUri: string;
  localHost: string;
  credentials?: Credentials;
  part: Part;
  overrides: LoadOverrides;
  stopOnFirstFailure: boolean;
  drainMs: number;
  tls?: { insecure?: boolean; caFile?: string };
  limits?: { maxHeaderBytes?: number; maxBodyBytes?: number };
}

export type ToWorker =
  /** `resume`: this worker replaces one that crashed (times are epoch ms; see RunnerOptions.resume). */
  | { type: 'start'; at: number; resume?: { at: number; accounted: number[] } }
  | { type: 'stop'; drainMs: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'snapshot'; snapshot: RunSnapshot; running: number }
  | { type: 'done'; snapshot: RunSnapshot }
  | { type: 'error'; code: string; message: string };
