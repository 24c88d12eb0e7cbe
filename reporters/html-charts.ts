// The charts of a run over time, as inline SVG: started/s, active and failed;
// per step the p50/p90/p99 of each second, the responses by class each
// second, and the response-time distribution. One set of functions for the
// HTML report (from the result object) and the live dashboard (from the
// snapshots so far), so that both show the same charts.

import type { RawHistogram } from '../engine/metrics/histogram.js';
import { bucketValueUs } from '../engine/metrics/raw-buckets.js';
import type { StepSeries } from '../engine/metrics/step-series.js';
import type { TimePoint } from '../engine/metrics/timeseries.js';
import { ms } from './format.js';

export const W = 560;
export const H = 220;
export const PAD = { l: 56, r: 12, t: 12, b: 34 };

export function esc(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function linePath(points: [number, number][], x: (v: number) => number, y: (v: number) => number): string {
  return points.map(([a, b], i) => `${i ? 'L' : 'M'}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
}

/** At most this many points or bars a chart: a long run's seconds are taken in groups (a chart is 560 px wide). */
export const MAX_POINTS = 280;

/** Every k-th point (and the last), so that at most MAX_POINTS remain: the lines of a long run. */
function thin<T>(pts: T[]): T[] {
  if (pts.length <= MAX_POINTS) return pts;
  const k = Math.ceil(pts.length / MAX_POINTS);
  return pts.filter((_, i) => i % k === 0 || i === pts.length - 1);
}

/** Axes of a chart over the run's seconds: x from 0 to maxT seconds, y from 0 to maxY. */
function timeAxes(maxT: number, maxY: number, yText: (v: number) => string, label: string) {
  const x = (v: number) => PAD.l + (v / maxT) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxY) * (H - PAD.t - PAD.b);
  const frame = `${[0, 0.5, 1].map((f) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(f * maxY)}" y2="${y(f * maxY)}" class="grid"/><text x="${PAD.l - 6}" y="${y(f * maxY) + 4}" class="tick" text-anchor="end">${esc(yText(f * maxY))}</text>`).join('')}
  <text x="${PAD.l}" y="${H - PAD.b + 16}" class="tick">0 s</text><text x="${W - PAD.r}" y="${H - PAD.b + 16}" class="tick" text-anchor="end">${maxT.toFixed(0)} s</text>`;
  return { x, y, open: `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(label)}">${frame}` };
}

/** Started per second, active and failed (cumulative) over the run. */
export function timeChart(pts: TimePoint[]): string {
  if (pts.length < 2) return '<p class="muted">run too short for a time series</p>';
  const maxT = Math.max(1, pts[pts.length - 1]!.t / 1000);
  const maxY = Math.max(1, ...pts.map((p) => Math.max(p.rate, p.active, p.failed)));
  const { x, y, open } = timeAxes(maxT, maxY, (v) => String(Math.round(v)), 'throughput over time');
  const series = (key: 'rate' | 'active' | 'failed') => linePath(thin(pts).map((p) => [p.t / 1000, p[key]]), x, y);
  return `${open}
  <path d="${series('rate')}" class="line rate"/><path d="${series('active')}" class="line active"/><path d="${series('failed')}" class="line failed"/>
</svg>
<div class="legend"><span class="key rate"></span>started/s <span class="key active"></span>active <span class="key failed"></span>failed (cumulative)</div>`;
}

/** A step's p50, p90 and p99 of each second (seconds without an answer are left out). */
export function percentilesOverTime(s: StepSeries): string {
  const pts = s.points.filter((p) => p.count > 0);
  if (pts.length === 0) return '<p class="muted">no latency samples</p>';
  const maxT = Math.max(1, s.points[s.points.length - 1]!.t / 1000);
  const maxY = Math.max(0.001, ...pts.map((p) => p.p99)) * 1.1;
  const { x, y, open } = timeAxes(maxT, maxY, ms, 'percentiles over time');
  // A long run's lines take the worst second of each group, so that no peak is thinned away.
  const k = Math.ceil(pts.length / MAX_POINTS);
  const groups = k > 1 ? Array.from({ length: Math.ceil(pts.length / k) }, (_, g) => pts.slice(g * k, g * k + k)) : pts.map((p) => [p]);
  const line = (key: 'p50' | 'p90' | 'p99') => `<path d="${linePath(groups.map((g) => [g[g.length - 1]!.t / 1000, Math.max(...g.map((p) => p[key]))]), x, y)}" class="line ${key}"/>`;
  return `${open}${line('p99')}${line('p90')}${line('p50')}</svg>
<div class="legend"><span class="key p50"></span>p50 <span class="key p90"></span>p90 <span class="key p99"></span>p99 of each second</div>`;
}

const CLASS_NAMES = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'];

/** A step's responses per second, stacked by class, timeouts on top. */
export function codesOverTime(s: StepSeries): string {
  // Per second: a point that spans several seconds (a long run's older ones) shows its mean.
  const seconds = s.points.filter((p) => p.t > 0).map((p) => ({ t: p.t, span: p.span ?? 1, codes: p.codes.map((n) => n / (p.span ?? 1)), timeouts: p.timeouts / (p.span ?? 1) }));
  // A long run's bars are the means of groups of points.
  const k = Math.ceil(seconds.length / MAX_POINTS);
  const mean = (g: typeof seconds, f: (p: (typeof seconds)[number]) => number) => g.reduce((a, p) => a + f(p) * p.span, 0) / g.reduce((a, p) => a + p.span, 0);
  const pts = k > 1
    ? Array.from({ length: Math.ceil(seconds.length / k) }, (_, g) => seconds.slice(g * k, g * k + k)).map((g) => ({
        t: g[g.length - 1]!.t, span: 0, codes: [0, 1, 2, 3, 4, 5].map((c) => mean(g, (p) => p.codes[c]!)), timeouts: mean(g, (p) => p.timeouts),
      }))
    : seconds;
  const averaged = k > 1 || seconds.some((p) => p.span > 1);
  const totals = pts.map((p) => p.codes.reduce((a, b) => a + b, 0) + p.timeouts);
  if (totals.every((n) => n === 0)) return '<p class="muted">no responses</p>';
  const maxT = Math.max(1, pts[pts.length - 1]!.t / 1000);
  const maxY = Math.max(1, ...totals);
  const { x, y, open } = timeAxes(maxT, maxY, (v) => String(Math.round(v * 10) / 10), 'response codes over time');
  const barW = Math.max(1, ((W - PAD.l - PAD.r) / Math.max(1, pts.length)) * 0.8);
  const bars = pts
    .map((p) => {
      let base = 0;
      const cells = [...p.codes.map((n, k) => [n, `c${CLASS_NAMES[k]}`] as const), [p.timeouts, 'timeout'] as const];
      return cells
        .filter(([n]) => n > 0)
        .map(([n, cls]) => {
          const top = y(base + n);
          const h = y(base) - top;
          base += n;
          return `<rect x="${(x(p.t / 1000) - barW).toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" class="${cls}"/>`;
        })
        .join('');
    })
    .join('');
  const seen = CLASS_NAMES.filter((_, k) => pts.some((p) => p.codes[k]! > 0));
  const timeouts = pts.some((p) => p.timeouts > 0);
  return `${open}${bars}</svg>
<div class="legend">${seen.map((c) => `<span class="key c${c}"></span>${c}`).join(' ')}${timeouts ? ' <span class="key timeout"></span>timeout' : ''} per second${averaged ? ' (means over groups of seconds)' : ''}</div>`;
}

/** Bin edges of the distribution, ms: 1-2-5 steps from 0.1 ms to 100 s. */
const EDGES_MS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];

/** The response-time distribution: how many answers fell between each pair of 1-2-5 edges (log scale). */
export function distributionChart(raw: RawHistogram): string {
  if (raw.index.length === 0) return '<p class="muted">no latency samples</p>';
  const bins = new Array<number>(EDGES_MS.length + 1).fill(0);
  for (let i = 0; i < raw.index.length; i++) {
    const v = bucketValueUs(raw.index[i]!) / 1000;
    let b = 0;
    while (b < EDGES_MS.length && v >= EDGES_MS[b]!) b++;
    bins[b]! += raw.count[i]!;
  }
  const first = bins.findIndex((n) => n > 0);
  const last = bins.length - 1 - [...bins].reverse().findIndex((n) => n > 0);
  const shown = bins.slice(first, last + 1);
  const maxY = Math.max(...shown);
  const slot = (W - PAD.l - PAD.r) / shown.length;
  const y = (v: number) => H - PAD.b - (v / maxY) * (H - PAD.t - PAD.b);
  const edge = (b: number) => (b === 0 ? '0' : ms(EDGES_MS[b - 1]!));
  const bars = shown
    .map((n, k) => {
      const b = first + k;
      const label = b >= EDGES_MS.length ? `≥ ${ms(EDGES_MS[EDGES_MS.length - 1]!)}` : `${edge(b)}–${ms(EDGES_MS[b]!)}`;
      return `<rect x="${(PAD.l + k * slot + 2).toFixed(1)}" y="${y(n).toFixed(1)}" width="${(slot - 4).toFixed(1)}" height="${(H - PAD.b - y(n)).toFixed(1)}" class="bin"><title>${esc(label)}: ${n}</title></rect><text x="${(PAD.l + (k + 0.5) * slot).toFixed(1)}" y="${H - PAD.b + 14}" class="tick" text-anchor="middle">${esc(edge(b))}</text>`;
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="response-time distribution">
  ${[0, 0.5, 1].map((f) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(f * maxY)}" y2="${y(f * maxY)}" class="grid"/><text x="${PAD.l - 6}" y="${y(f * maxY) + 4}" class="tick" text-anchor="end">${Math.round(f * maxY)}</text>`).join('')}
  ${bars}<text x="${(W + PAD.l) / 2}" y="${H - 4}" class="tick" text-anchor="middle">service time (bins from the lower edge, log scale)</text>
</svg>`;
}

/** What the over-time charts of one scenario are drawn from: the report's result or the live snapshots. */
export interface ChartsView {
  timeseries: TimePoint[];
  stepSeries: readonly StepSeries[];
  /** Service times of each step so far, by role and step name. */
  service(role: string, step: string): RawHistogram | undefined;
}

/** The time chart, then per step its percentiles and codes over time and its distribution. */
export function overTimeCharts(v: ChartsView): string {
  const steps = v.stepSeries
    .filter((s) => s.points.some((p) => p.count > 0 || p.codes.some((n) => n > 0) || p.timeouts > 0))
    .map((s) => {
      const raw = v.service(s.role, s.step);
      return `<div class="step-charts" data-step="${esc(s.step)}"><h4>${esc(s.role)} · ${esc(s.step)}</h4><div class="charts">
<figure class="percentiles-chart"><figcaption>p50 / p90 / p99 each second</figcaption>${percentilesOverTime(s)}</figure>
<figure class="codes-chart"><figcaption>responses each second</figcaption>${codesOverTime(s)}</figure>
<figure class="distribution-chart"><figcaption>response-time distribution</figcaption>${raw ? distributionChart(raw) : '<p class="muted">no latency samples</p>'}</figure>
</div></div>`;
    })
    .join('');
  return `<figure class="time-chart"><figcaption>over time</figcaption>${timeChart(v.timeseries)}</figure>${steps}`;
}

/** The charts' styles, shared by the report and the dashboard. */
export const CHART_CSS = `.charts{display:flex;flex-wrap:wrap;gap:16px} figure{margin:8px 0} figcaption{font-weight:600;margin-bottom:2px} h4{font-size:14px;margin:14px 0 2px}
svg.chart{width:${W}px;max-width:100%;height:auto;background:#fafbfc;border:1px solid #eee}
.grid{stroke:#e5e7ea} .tick{font-size:10px;fill:#57606a} .line{fill:none;stroke-width:2}
.line.service,.key.service{stroke:#0969da;background:#0969da} .line.corrected,.key.corrected{stroke:#cf222e;background:#cf222e}
.line.rate,.key.rate{stroke:#1a7f37;background:#1a7f37} .line.active,.key.active{stroke:#0969da;background:#0969da} .line.failed,.key.failed{stroke:#cf222e;background:#cf222e}
.line.p50,.key.p50{stroke:#1a7f37;background:#1a7f37} .line.p90,.key.p90{stroke:#bf8700;background:#bf8700} .line.p99,.key.p99{stroke:#cf222e;background:#cf222e}
.c1xx{background:#8c959f;fill:#8c959f}.c2xx{background:#1a7f37;fill:#1a7f37}.c3xx{background:#0969da;fill:#0969da}.c4xx{background:#bf8700;fill:#bf8700}.c5xx{background:#cf222e;fill:#cf222e}.c6xx{background:#8250df;fill:#8250df}
.timeout{background:#24292f;fill:#24292f} rect.bin{fill:#0969da}
.legend{font-size:12px;color:#57606a} .key{display:inline-block;width:14px;height:3px;margin:0 4px 3px 10px;vertical-align:middle}`;
