// Call quality across calls (docs/media.md): what each call's audio stream
// measured when it ended, added up per step (the INVITE that set the stream
// up), per role, scenario and run, and merged across workers and shards like
// every other metric: counts added, histograms added. Histograms hold one
// value per stream: its A.8 jitter (microseconds, as latencies), its loss
// rate (parts per million) and its E-model MOS (thousandths).

import { addRaw, decodeHistogram, emptyRaw, encodeHistogram, histogramOf, newHistogram, rawOf, recordMs, type Histogram, type RawHistogram } from './histogram.js';

/** What one stream measured (engine/media's StreamStats is this and its round trip). */
export interface StreamFigures {
  packetsSent: number;
  /** Did this side expect packets (the negotiated direction lets the peer send)? */
  receiving: boolean;
  packetsReceived: number;
  packetsExpected: number;
  packetsLost: number;
  duplicates: number;
  reordered: number;
  /** Lost / expected, 0..1; 1 for a one-way stream. */
  loss: number;
  jitterMs: number;
  mos: number;
  /** No packet within oneWayAfterMs of the answer (or before the end, if it came sooner). */
  oneWay: boolean;
  /** ms from the answer to the first packet received; absent when none came. */
  firstPacketMs?: number;
  dtmfSent: number;
  rtcpSent: number;
  rtcpReceived: number;
}

const COUNTS = ['streams', 'receiving', 'packetsSent', 'packetsReceived', 'packetsExpected', 'packetsLost', 'duplicates', 'reordered', 'oneWay', 'dtmfSent', 'rtcpSent', 'rtcpReceived', 'setupFailed'] as const;
type CountName = (typeof COUNTS)[number];
const HISTS = ['jitter', 'loss', 'mos', 'firstPacket'] as const;

export type MediaCounts = Record<CountName, number>;

export interface MediaSnapshot extends MediaCounts {
  jitter: RawHistogram;
  loss: RawHistogram;
  mos: RawHistogram;
  firstPacket: RawHistogram;
}

export class MediaMetrics {
  readonly counts: MediaCounts = Object.fromEntries(COUNTS.map((k) => [k, 0])) as MediaCounts;
  private readonly jitter = newHistogram();
  private readonly loss = newHistogram();
  private readonly mos = newHistogram();
  private readonly firstPacket = newHistogram();

  /** A stream that ended. Quality histograms take only streams that expected packets. */
  add(s: StreamFigures): void {
    const c = this.counts;
    c.streams++;
    c.packetsSent += s.packetsSent;
    c.packetsReceived += s.packetsReceived;
    c.packetsExpected += s.packetsExpected;
    c.packetsLost += s.packetsLost;
    c.duplicates += s.duplicates;
    c.reordered += s.reordered;
    c.dtmfSent += s.dtmfSent;
    c.rtcpSent += s.rtcpSent;
    c.rtcpReceived += s.rtcpReceived;
    if (!s.receiving) return;
    c.receiving++;
    if (s.oneWay) c.oneWay++;
    recordMs(this.jitter, s.jitterMs);
    this.loss.recordValue(Math.round(Math.min(1, Math.max(0, s.loss)) * 1e6));
    this.mos.recordValue(Math.round(s.mos * 1000));
    if (s.firstPacketMs !== undefined) recordMs(this.firstPacket, s.firstPacketMs);
  }

  /** A call whose stream could not be set up (no acceptable codec, no port): counted, not measured. */
  setupFailed(): void {
    this.counts.setupFailed++;
  }

  snapshot(): MediaSnapshot {
    return { ...this.counts, jitter: rawOf(this.jitter), loss: rawOf(this.loss), mos: rawOf(this.mos), firstPacket: rawOf(this.firstPacket) };
  }
}

export function emptyMediaSnapshot(): MediaSnapshot {
  return { ...(Object.fromEntries(COUNTS.map((k) => [k, 0])) as MediaCounts), jitter: emptyRaw(), loss: emptyRaw(), mos: emptyRaw(), firstPacket: emptyRaw() };
}

export function mergeMedia(a: MediaSnapshot, b: MediaSnapshot): MediaSnapshot {
  const out = { ...a };
  for (const k of COUNTS) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  for (const k of HISTS) out[k] = addRaw(a[k], b[k]);
  return out;
}

/** Optional media of two steps (a step sets up streams or not): added when both have some. */
export function addOptionalMedia(a: MediaSnapshot | undefined, b: MediaSnapshot | undefined): MediaSnapshot | undefined {
  return a && b ? mergeMedia(a, b) : (a ?? b);
}

/** A distribution across streams, in the unit of its name (ms, %, MOS). */
export interface MediaStat {
  count: number;
  min: number;
  p5: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  histogram: string;
}

/** result.json's `media`: the counts, and per-stream jitter (ms), loss (%) and MOS across streams. */
export interface MediaResult extends MediaCounts {
  jitterMs: MediaStat;
  lossPercent: MediaStat;
  mos: MediaStat;
  /** ms from the answer (2xx) to the first RTP packet received. */
  firstPacketMs: MediaStat;
}

function statOf(h: Histogram, scale: number): MediaStat {
  const v = (x: number) => Math.round((x / scale) * 1000) / 1000;
  const histogram = encodeHistogram(h);
  if (h.totalCount === 0) return { count: 0, min: 0, p5: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0, histogram };
  return {
    count: h.totalCount, min: v(h.getValueAtPercentile(0)),
    p5: v(h.getValueAtPercentile(5)), p50: v(h.getValueAtPercentile(50)), p90: v(h.getValueAtPercentile(90)), p99: v(h.getValueAtPercentile(99)),
    max: v(h.maxValue), mean: v(h.mean), histogram,
  };
}

const SCALE = { jitterMs: 1000, lossPercent: 1e4, mos: 1000, firstPacketMs: 1000 } as const;

function resultOf(counts: MediaCounts, h: Record<(typeof HISTS)[number], Histogram>): MediaResult {
  return {
    ...counts,
    jitterMs: statOf(h.jitter, SCALE.jitterMs), lossPercent: statOf(h.loss, SCALE.lossPercent), mos: statOf(h.mos, SCALE.mos), firstPacketMs: statOf(h.firstPacket, SCALE.firstPacketMs),
  };
}

function countsOf(x: MediaCounts): MediaCounts {
  return Object.fromEntries(COUNTS.map((k) => [k, x[k] ?? 0])) as MediaCounts;
}

export function mediaResultOf(s: MediaSnapshot): MediaResult {
  return resultOf(countsOf(s), { jitter: histogramOf(s.jitter), loss: histogramOf(s.loss), mos: histogramOf(s.mos), firstPacket: histogramOf(s.firstPacket) });
}

/** Adds results (steps of a scenario, scenarios of a run, shards): counts added, histograms decoded and added. */
export function addMediaResults(list: (MediaResult | undefined)[]): MediaResult | undefined {
  const present = list.filter((m): m is MediaResult => m !== undefined);
  if (present.length === 0) return undefined;
  const counts = countsOf(present[0]!);
  const h = { jitter: newHistogram(), loss: newHistogram(), mos: newHistogram(), firstPacket: newHistogram() };
  present.forEach((m, i) => {
    if (i > 0) for (const k of COUNTS) counts[k] += m[k] ?? 0;
    h.jitter.add(decodeHistogram(m.jitterMs.histogram));
    h.loss.add(decodeHistogram(m.lossPercent.histogram));
    h.mos.add(decodeHistogram(m.mos.histogram));
    h.firstPacket.add(decodeHistogram(m.firstPacketMs.histogram));
  });
  return resultOf(counts, h);
}
