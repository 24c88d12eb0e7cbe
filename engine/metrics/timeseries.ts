// The run's time series: one point a second, built as the snapshots arrive so
// that a long run keeps a few numbers per second and not a snapshot each.
// Latency percentiles of a point cover that second only (the first step's
// service time), taken as the difference of two cumulative histograms.
// SecondsOfWorkers lines the workers' snapshots up by the second of the run
// they were taken at, so that a point adds the workers' counts of one and the
// same instant (never one worker's second 3 to another's second 4).

import type { RawHistogram } from './histogram.js';
import { rawPercentilesMs, subtractRaw } from './raw-buckets.js';
import { emptyRunSnapshot, mergeSnapshots, type RunSnapshot } from './step-metrics.js';

export interface TimePoint {
  t: number;
  started: number;
  passed: number;
  failed: number;
  active: number;
  rate: number;
  p50: number;
  p99: number;
  /** The generator's V8 heap in use, MB (see RunSnapshot health.heapUsedMb). */
  heapMb?: number;
}

export class TimeSeries {
  readonly points: TimePoint[] = [{ t: 0, started: 0, passed: 0, failed: 0, active: 0, rate: 0, p50: 0, p99: 0 }];
  private prevMain: RawHistogram | undefined;

  add(t: number, snap: RunSnapshot): void {
    const prev = this.points[this.points.length - 1]!;
    const started = snap.roles.reduce((a, r) => a + r.started, 0);
    const main = snap.roles[0]?.steps[0];
    let p50 = 0;
    let p99 = 0;
    if (main) {
      // Raw buckets, not hdr-histogram-js, whose percentiles walk every bucket: this runs on the coordinator every second.
      [p50, p99] = rawPercentilesMs(this.prevMain ? subtractRaw(main.service, this.prevMain) : main.service, [50, 99]) as [number, number];
      this.prevMain = main.service;
    }
    this.points.push({
      t: Math.round(t),
      started,
      passed: snap.roles.reduce((a, r) => a + r.passed, 0),
      failed: snap.roles.reduce((a, r) => a + r.failed, 0),
      active: snap.roles.reduce((a, r) => a + r.running, 0),
      rate: started - prev.started,
      p50,
      p99,
      heapMb: snap.health.heapUsedMb,
    });
  }
}

interface SlotState {
  /** Snapshots by the second of the run they were taken at, oldest first (seconds not yet added up, and the one before). */
  reports: { second: number; snapshot: RunSnapshot }[];
  /** The worker's last snapshot once it finished: its numbers for every later second. */
  final?: RunSnapshot;
  /** A worker that may still report; a crashed slot is not waited for. */
  live: boolean;
}

/**
 * Adds the cumulative snapshots of N workers second by second of the run. A worker posts one snapshot at
 * each whole second k after the shared start instant, labelled k; second k is added up (onSecond) as soon as
 * every live worker has reported k or a later second, or has finished (its final snapshot stands for it).
 * Driven by the reports alone: no timer of its own, so each point holds the numbers of its second.
 */
export class SecondsOfWorkers {
  private readonly slots: SlotState[];
  /** Snapshots of crashed workers (their instances then counted as failed): part of every later second. */
  private readonly lost: RunSnapshot[] = [];
  private added = 0;
  private latest = 0;

  constructor(
    slots: number,
    private readonly onSecond: (second: number, merged: RunSnapshot) => void,
  ) {
    this.slots = Array.from({ length: slots }, () => ({ reports: [], live: true }));
  }

  /** The last second added up. */
  get second(): number {
    return this.added;
  }

  report(slot: number, second: number, snapshot: RunSnapshot): void {
    const s = this.slots[slot]!;
    const last = s.reports[s.reports.length - 1];
    if (last && last.second >= second) return; // never backwards: a late duplicate changes nothing
    s.reports.push({ second, snapshot });
    this.latest = Math.max(this.latest, second);
    this.flush();
  }

  /** The worker of this slot finished; its final snapshot counts for every second it did not report. */
  finish(slot: number, final: RunSnapshot): void {
    const s = this.slots[slot]!;
    s.final = final;
    s.live = false;
    this.flush();
  }

  /** The worker of this slot crashed: its history is `crashed` from now on, and it is not waited for. */
  crash(slot: number, crashed: RunSnapshot | undefined): void {
    const s = this.slots[slot]!;
    if (crashed) this.lost.push(crashed);
    s.reports = [];
    s.live = false;
    this.flush();
  }

  /** A replacement took over the slot: it counts from zero, on top of what the crashed one left. */
  revive(slot: number): void {
    const s = this.slots[slot]!;
    s.live = true;
    s.reports = [];
  }

  private ready(s: SlotState, second: number): boolean {
    if (!s.live) return true;
    const last = s.reports[s.reports.length - 1];
    return last !== undefined && last.second >= second;
  }

  /** The slot's numbers at a second: its report of that second, else its latest before, else its final. */
  private at(s: SlotState, second: number): RunSnapshot | undefined {
    let best: RunSnapshot | undefined;
    let reported = false;
    for (const r of s.reports) {
      if (r.second > second) break;
      best = r.snapshot;
      reported = r.second === second;
    }
    if (!reported && s.final && !s.reports.some((r) => r.second > second)) return s.final;
    return best;
  }

  private flush(): void {
    while (this.added < this.latest && this.slots.every((s) => this.ready(s, this.added + 1))) {
      const second = ++this.added;
      let merged = this.lost.reduce((acc, x) => mergeSnapshots(acc, x), emptyRunSnapshot());
      for (const s of this.slots) {
        const snap = this.at(s, second);
        if (snap) merged = mergeSnapshots(merged, snap);
        // Keep the report of this second as the base of the next; older ones are done with.
        while (s.reports.length > 1 && s.reports[1]!.second <= second) s.reports.shift();
      }
      this.onSecond(second, merged);
    }
  }
}
