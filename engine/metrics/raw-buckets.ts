// Reading raw histograms (RawHistogram, the non-zero buckets a snapshot
// carries) without building a full one: the difference of two cumulative
// snapshots (what happened between them), counts at or below fixed bounds
// (a Prometheus histogram's `le` buckets) and their sum. A bucket stands for
// the lowest value it holds, so a bound is met to the histogram's 3
// significant digits (values below 2048 µs exactly).

import { newHistogram, type RawHistogram } from './histogram.js';

/** Index to value: every histogram has the layout of newHistogram, so one, never recorded into, answers for all. */
const layout = newHistogram() as unknown as { valueFromIndex(index: number): number; lowestEquivalentValue(v: number): number; medianEquivalentValue(v: number): number };

/** The lowest value (µs) bucket `index` holds. */
export function bucketValueUs(index: number): number {
  return layout.lowestEquivalentValue(layout.valueFromIndex(index));
}

/** later - earlier, bucket by bucket, for two cumulative snapshots of one histogram (later holds all of earlier). */
export function subtractRaw(later: RawHistogram, earlier: RawHistogram): RawHistogram {
  if (earlier.index.length === 0) return later;
  const index: number[] = [];
  const count: number[] = [];
  for (let i = 0, j = 0; i < later.index.length; i++) {
    const at = later.index[i]!;
    while (j < earlier.index.length && earlier.index[j]! < at) j++;
    const c = later.count[i]! - (j < earlier.index.length && earlier.index[j] === at ? earlier.count[j]! : 0);
    if (c > 0) {
      index.push(at);
      count.push(c);
    }
  }
  return { index: Uint32Array.from(index), count: Float64Array.from(count) };
}

/** How many values are at or below each of `boundsUs` (ascending), and all of them: a histogram's cumulative buckets. */
export function countsAtOrBelow(raw: RawHistogram, boundsUs: readonly number[]): { below: number[]; total: number } {
  const below = new Array<number>(boundsUs.length).fill(0);
  let total = 0;
  let b = 0;
  for (let i = 0; i < raw.index.length; i++) {
    // Buckets come in ascending value: what was counted before the first one above a bound is all at or below it.
    const v = bucketValueUs(raw.index[i]!);
    while (b < boundsUs.length && v > boundsUs[b]!) below[b++] = total;
    total += raw.count[i]!;
  }
  while (b < boundsUs.length) below[b++] = total;
  return { below, total };
}

/** The sum of the values (µs), each bucket's count times its middle value. */
export function sumUs(raw: RawHistogram): number {
  let sum = 0;
  for (let i = 0; i < raw.index.length; i++) sum += raw.count[i]! * layout.medianEquivalentValue(layout.valueFromIndex(raw.index[i]!));
  return sum;
}
