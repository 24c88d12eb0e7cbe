// The run-wide cap on running instances (load.maxConcurrent, --max-concurrent):
// one counter per role in memory shared by every worker of the run
// (SharedArrayBuffer), taken and given back with atomic operations, so the
// cap holds exactly for the whole run whatever the number of workers, and a
// worker with waiting arrivals takes a slot the moment any worker frees one
// (Atomics.notify / waitAsync), with no coordinator round trip.
//
// Layout of the Int32Array, per role r (stride = 1 + workers):
//   [r*stride]         instances of role r running in the whole run
//   [r*stride + 1 + w] of those, the ones worker w runs (so that the counts of a
//                      worker that crashed can be given back: releaseWorker)
// Shards (--shard i/N) are separate processes: each takes its exact share of the
// cap (shareOf), as it does of the arrivals.

export interface SharedCap {
  /** Int32Array memory: roles * (1 + workers) cells. */
  buffer: SharedArrayBuffer;
  workers: number;
}

export function sharedCap(roles: number, workers: number): SharedCap {
  return { buffer: new SharedArrayBuffer(Math.max(1, roles) * (1 + workers) * 4), workers };
}

/** Gives back the slots a crashed worker held, so that its replacement (or the other workers) can use them. */
export function releaseWorker(cap: SharedCap, worker: number, roles: number): void {
  const cells = new Int32Array(cap.buffer);
  const stride = 1 + cap.workers;
  for (let r = 0; r < roles; r++) {
    const held = Atomics.exchange(cells, r * stride + 1 + worker, 0);
    if (held > 0) {
      Atomics.sub(cells, r * stride, held);
      Atomics.notify(cells, r * stride);
    }
  }
}

type WaitAsync = (a: Int32Array, index: number, value: number, timeoutMs: number) => { async: boolean; value: Promise<string> | string };

/** One worker's view of one role's run-wide cap. */
export class RunWideCap {
  private readonly cells: Int32Array;
  private readonly total: number;
  private readonly mine: number;
  private waiting = false;

  constructor(
    shared: SharedCap,
    role: number,
    worker: number,
    /** The cap of this process (its shard's share). */
    readonly limit: number,
  ) {
    this.cells = new Int32Array(shared.buffer);
    const stride = 1 + shared.workers;
    this.total = role * stride;
    this.mine = role * stride + 1 + worker;
  }

  /** This process's share of `cap` when the run is split into `shards` separate processes. */
  static shardLimit(cap: number, shard: number, shards: number): number {
    return Math.floor(cap / shards) + (shard < cap % shards ? 1 : 0);
  }

  /** Takes a slot if the run has one free. */
  tryAcquire(): boolean {
    for (;;) {
      const cur = Atomics.load(this.cells, this.total);
      if (cur >= this.limit) return false;
      if (Atomics.compareExchange(this.cells, this.total, cur, cur + 1) === cur) {
        Atomics.add(this.cells, this.mine, 1);
        return true;
      }
    }
  }

  release(): void {
    Atomics.sub(this.cells, this.mine, 1);
    Atomics.sub(this.cells, this.total, 1);
    Atomics.notify(this.cells, this.total);
  }

  /**
   * Calls `onMaybeFree` once after a slot may have been freed anywhere in the run (at once if one is free now).
   * One wait at a time per worker and role: a call while one is pending does nothing.
   */
  whenFree(onMaybeFree: () => void): void {
    if (this.waiting) return;
    const cur = Atomics.load(this.cells, this.total);
    if (cur < this.limit) return queueMicrotask(onMaybeFree);
    this.waiting = true;
    const wake = () => {
      this.waiting = false;
      onMaybeFree();
    };
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    if (!waitAsync) {
      setTimeout(wake, 1); // no waitAsync (older runtimes): look again each millisecond
      return;
    }
    // A bounded wait: a pending one must not hold the worker's exit for long once the run is over.
    const r = waitAsync(this.cells, this.total, cur, 250);
    if (r.async) void (r.value as Promise<string>).then(wake);
    else queueMicrotask(wake); // the count changed since it was read
  }
}
