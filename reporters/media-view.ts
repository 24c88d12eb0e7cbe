// How the reporters show call quality (result.json `media`, docs/media.md):
// the one-line summary the console and HTML print, and the HTML's
// distribution plots across calls (jitter, loss, MOS: the value each share of
// the calls stayed under). Reads only the result object.

import { decodeHistogram } from '../engine/metrics/histogram.js';
import type { MediaResult, MediaStat } from '../engine/metrics/media-metrics.js';

const num = (v: number, digits = 2) => String(Number(v.toFixed(digits)));

/** One line: streams, packets, loss, one-way, jitter, MOS. */
export function mediaText(m: MediaResult): string {
  const loss = m.packetsExpected > 0 ? (m.packetsLost / m.packetsExpected) * 100 : 0;
  const parts = [
    `${m.streams} streams`,
    `packets sent ${m.packetsSent}, received ${m.packetsReceived}, lost ${m.packetsLost} (${num(loss, 3)}%)`,
    ...(m.duplicates || m.reordered ? [`${m.duplicates} duplicate, ${m.reordered} reordered`] : []),
    `one-way ${m.oneWay}`,
    ...(m.jitterMs.count ? [`jitter p50 ${num(m.jitterMs.p50)} ms p99 ${num(m.jitterMs.p99)} ms`, `MOS p5 ${num(m.mos.p5)} p50 ${num(m.mos.p50)} min ${num(m.mos.min)}`] : []),
    ...(m.dtmfSent ? [`DTMF packets ${m.dtmfSent}`] : []),
    ...(m.setupFailed ? [`${m.setupFailed} calls without a usable stream`] : []),
  ];
  return `media: ${parts.join('; ')}`;
}

const W = 360;
const H = 180;
const PAD = { l: 48, r: 10, t: 10, b: 30 };
const SHARES = Array.from({ length: 21 }, (_, i) => i * 5);

/** Value at each 5% share of calls (x: share of calls, y: value), from the stat's histogram. */
function distribution(stat: MediaStat, scale: number): [number, number][] {
  const h = decodeHistogram(stat.histogram);
  if (h.totalCount === 0) return [];
  return SHARES.map((p) => [p, h.getValueAtPercentile(p) / scale]);
}

function chart(title: string, unit: string, points: [number, number][], esc: (s: string) => string): string {
  const maxY = Math.max(...points.map((p) => p[1]), 1e-6) * 1.1;
  const x = (v: number) => PAD.l + (v / 100) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxY) * (H - PAD.t - PAD.b);
  const path = points.map(([a, b], i) => `${i ? 'L' : 'M'}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
  const yTicks = [0, 0.5, 1].map((f) => f * maxY);
  return `<figure class="media-chart"><figcaption>${esc(title)} across calls</figcaption><svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)} across calls">
  ${yTicks.map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${PAD.l - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${esc(num(v))}${esc(unit)}</text>`).join('')}
  ${[0, 50, 100].map((v) => `<text x="${x(v)}" y="${H - PAD.b + 14}" class="tick" text-anchor="middle">${v}%</text>`).join('')}
  <text x="${(W + PAD.l) / 2}" y="${H - 2}" class="tick" text-anchor="middle">share of calls at or under</text>
  <path d="${path}" class="line service"/>
</svg></figure>`;
}

/** The HTML block of a scenario's media: its line and the three distribution plots. */
export function mediaHtml(m: MediaResult, esc: (s: string) => string): string {
  const plots = [
    ['jitter (RFC 3550 A.8)', ' ms', distribution(m.jitterMs, 1000)],
    ['packet loss', '%', distribution(m.lossPercent, 1e4)],
    ['MOS (E-model)', '', distribution(m.mos, 1000)],
  ] as const;
  const charts = plots.filter(([, , pts]) => pts.length > 0).map(([t, u, pts]) => chart(t, u, [...pts], esc)).join('');
  return `<div class="media"><p class="media-line">${esc(mediaText(m))}</p><div class="charts">${charts}</div></div>`;
}
