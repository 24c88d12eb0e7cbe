// Splitting one run's load into parts (shards x workers), so that every part
// computes its own exact share with no coordination and the shares add up to
// the whole (k6's execution segments, with integer striping): arrival k and
// UA i belong to part (k mod parts).

export interface Part {
  index: number;
  count: number;
}

export function partOf(shard: Part, workerIndex: number, workers: number): Part {
  return { index: shard.index * workers + workerIndex, count: shard.count * workers };
}

export function ownsArrival(part: Part, k: number): boolean {
  return k % part.count === part.index;
}

/** How many of `total` items (0..total-1) this part owns. */
export function shareOf(part: Part, total: number): number {
  return Math.floor(total / part.count) + (part.index < total % part.count ? 1 : 0);
}
