// The shard set of `sipstorm merge`: the results given must be the shards of
// one run, each once, all of them. A result records its shard (I/N), the run
// id (--run-id) and the scenario digest; this file checks them before anything
// is added up, so that a shard given twice, a shard of another run or of
// other scenarios, or a missing shard never turns into a verdict.

import { SipstormError } from '../errors.js';
import type { RunResult, ShardSetInfo } from './result.js';

/** Bad input (exit code 2 of cli/exit-codes.ts): the files do not form one run's shard set. */
export class ShardSetError extends SipstormError {
  readonly exitCode = 2;
  constructor(message: string) {
    super('MERGE_SHARD_SET', message);
  }
}

export interface ShardInput {
  file: string;
  result: Pick<RunResult, 'settings' | 'shardSet'>;
}

const label = (i: number, n: number) => `${i}/${n}`;

/** The shards an input covers, 1-based: its own, or those a merge before put into it. */
function coverage(r: ShardInput['result']): { count: number; shards: number[] } {
  if (r.shardSet) return { count: r.shardSet.count, shards: r.shardSet.merged.map((s) => Number(s.split('/')[0])) };
  return { count: r.settings.shard.count, shards: [r.settings.shard.index + 1] };
}

const short = (digest: string) => digest.replace(/^(sha256:.{12}).*$/, '$1…');

/**
 * Checks that the inputs are the shards of one run: one N, one run id (when
 * recorded), one scenario digest, no shard twice, and (unless allowPartial)
 * none missing. Returns what the merged result covers; throws ShardSetError
 * with one line naming the files otherwise.
 */
export function checkShardSet(inputs: ShardInput[], allowPartial: boolean): ShardSetInfo {
  const first = inputs[0]!;
  const n = coverage(first.result).count;
  for (const x of inputs.slice(1)) {
    const c = coverage(x.result).count;
    if (c !== n) {
      throw new ShardSetError(`${first.file} is one of ${n} shard${n === 1 ? '' : 's'} but ${x.file} is one of ${c}: these are not the shards of one run`);
    }
  }
  const ids = new Set(inputs.map((x) => x.result.settings.runId ?? null));
  if (ids.size > 1) {
    const a = first.result.settings.runId ?? null;
    const other = inputs.find((x) => (x.result.settings.runId ?? null) !== a)!;
    const show = (id: string | null) => (id === null ? 'no run id' : `run id '${id}'`);
    throw new ShardSetError(`${first.file} has ${show(a)} but ${other.file} has ${show(other.result.settings.runId ?? null)}: these are not the shards of one run`);
  }
  const digest = first.result.settings.scenarioDigest;
  const otherScenario = inputs.find((x) => x.result.settings.scenarioDigest !== digest);
  if (otherScenario) {
    throw new ShardSetError(
      `${first.file} and ${otherScenario.file} ran different scenarios or load flags (scenario digest ${short(digest)} vs ${short(otherScenario.result.settings.scenarioDigest)}): these are not the shards of one run`,
    );
  }
  const from = new Map<number, string>();
  for (const x of inputs) {
    for (const i of coverage(x.result).shards) {
      const before = from.get(i);
      if (before !== undefined) {
        const what = n === 1 ? `both whole runs (shard 1/1); merge adds up the shards of one run (--shard I/N)` : `both shard ${label(i, n)}`;
        throw new ShardSetError(before === x.file ? `${x.file} is given twice (shard ${label(i, n)})` : `${before} and ${x.file} are ${what}`);
      }
      from.set(i, x.file);
    }
  }
  const merged = [...from.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let i = 1; i <= n; i++) if (!from.has(i)) missing.push(i);
  if (missing.length > 0 && !allowPartial) {
    const names = missing.map((i) => label(i, n));
    const subject = names.length === 1 ? `shard ${names[0]} is missing` : `shards ${names.join(', ')} are missing`;
    throw new ShardSetError(`${subject} (given: ${merged.map((i) => `${label(i, n)} in ${from.get(i)}`).join(', ')}); add --allow-partial to merge an incomplete set`);
  }
  return { count: n, merged: merged.map((i) => label(i, n)), missing: missing.map((i) => label(i, n)), partial: missing.length > 0 };
}
