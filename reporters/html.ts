// The HTML report: one self-contained file (inline CSS, inline SVG drawn
// here, a few lines of inline script; nothing fetched from anywhere when it
// is opened), readable on screen and on paper. Verdict and thresholds first,
// then per step the HdrHistogram-style percentile plot (service time and
// corrected), throughput/active/failures over time, per step the p50/p90/p99
// of each second, responses by class each second and the response-time
// distribution (html-charts.ts, shared with the live dashboard), the
// conformance table, and SIP ladders of failed instances with the raw
// messages on click. A conform result gets a table per RFC section instead of
// latency charts of one sample per case. Reads only the result object.

import { reasonText, type RunResult, type ScenarioResult, type StepResult } from '../engine/metrics/result.js';
import type { FailureSample } from '../engine/metrics/step-metrics.js';
import { decodeHistogram, rawOf } from '../engine/metrics/histogram.js';
import { formatMeasured } from '../engine/metrics/thresholds.js';
import { verdictOf } from '../engine/metrics/verdict.js';
import { classCounts, generatorLine, ms, partialNote, pddText, sessionsText, stepRow } from './format.js';
import { mediaHtml } from './media-view.js';
import { writeFileAtomic } from './write-file.js';
import { CHART_CSS, esc, H, linePath, overTimeCharts, PAD, W } from './html-charts.js';
import { rfcSectionTable } from './html-conform.js';


/** Percentile points for a plot with x = log10(1 / (1 - p)): 0% .. 99.99%. */
const PERCENTILES = [0, 10, 25, 50, 75, 80, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99];

function percentileSeries(histogram: string): [number, number][] {
  const h = decodeHistogram(histogram);
  if (h.totalCount === 0) return [];
  return PERCENTILES.map((p) => [Math.log10(1 / (1 - p / 100)), h.getValueAtPercentile(p) / 1000]);
}

function percentileChart(step: StepResult): string {
  const service = percentileSeries(step.service.histogram);
  const corrected = percentileSeries(step.corrected.histogram);
  if (service.length === 0) return '<p class="muted">no latency samples</p>';
  const maxY = Math.max(...service.map((p) => p[1]), ...corrected.map((p) => p[1]), 0.001) * 1.1;
  const maxX = 4; // 99.99%
  const x = (v: number) => PAD.l + (v / maxX) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxY) * (H - PAD.t - PAD.b);
  const xTicks = [['0%', 0], ['90%', 1], ['99%', 2], ['99.9%', 3], ['99.99%', 4]] as const;
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="latency by percentile">
  ${yTicks.map((v) => `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${PAD.l - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${esc(ms(v))}</text>`).join('')}
  ${xTicks.map(([l, v]) => `<text x="${x(v)}" y="${H - PAD.b + 16}" class="tick" text-anchor="middle">${l}</text>`).join('')}
  <text x="${(W + PAD.l) / 2}" y="${H - 4}" class="tick" text-anchor="middle">percentile (log scale toward 99.99%)</text>
  <path d="${linePath(corrected, x, y)}" class="line corrected"/>
  <path d="${linePath(service, x, y)}" class="line service"/>
</svg>
<div class="legend"><span class="key service"></span>service time <span class="key corrected"></span>corrected for coordinated omission</div>`;
}

function codesBar(step: StepResult): string {
  const total = Object.values(step.codes).reduce((a, b) => a + b, 0);
  if (total === 0) return '';
  const c = classCounts(step.codes);
  return `<div class="bar">${c.map((n, i) => (n ? `<span class="c${i + 1}xx" style="width:${((n / total) * 100).toFixed(2)}%" title="${i + 1}xx: ${n}"></span>` : '')).join('')}</div>`;
}

function ladder(f: FailureSample, id: number): string {
  const local = f.ladder[0]?.local ?? 'sipstorm';
  const remote = f.ladder[0]?.remote ?? 'target';
  const rowH = 28;
  const height = 40 + f.ladder.length * rowH;
  const lx = 120;
  const rx = 440;
  const arrows = f.ladder
    .map((e, i) => {
      const yy = 40 + i * rowH;
      const [x1, x2] = e.dir === 'sent' ? [lx, rx] : [rx, lx];
      const head = e.dir === 'sent' ? `${x2 - 8},${yy - 4} ${x2},${yy} ${x2 - 8},${yy + 4}` : `${x2 + 8},${yy - 4} ${x2},${yy} ${x2 + 8},${yy + 4}`;
      return `<g class="arrow" data-raw="r${id}-${i}" tabindex="0"><line x1="${x1}" x2="${x2}" y1="${yy}" y2="${yy}"/><polygon points="${head}"/><text x="${(lx + rx) / 2}" y="${yy - 5}" text-anchor="middle">${esc(e.firstLine.slice(0, 60))}</text><text x="8" y="${yy + 4}" class="tick">${e.t.toFixed(1)} ms</text></g>`;
    })
    .join('');
  const raws = f.ladder.map((e, i) => `<pre class="raw-message" id="r${id}-${i}" hidden>${esc(e.raw)}</pre>`).join('');
  return `<div class="ladder" id="ladder-${id}">
<p><b>${esc(f.role)}</b> ${esc(f.user)}: ${esc(f.reason)}</p>
<svg viewBox="0 0 560 ${height}" role="img" aria-label="SIP ladder">
<text x="${lx}" y="16" text-anchor="middle" class="node">${esc(local)}</text><text x="${rx}" y="16" text-anchor="middle" class="node">${esc(remote)}</text>
<line x1="${lx}" x2="${lx}" y1="22" y2="${height}" class="lifeline"/><line x1="${rx}" x2="${rx}" y1="22" y2="${height}" class="lifeline"/>
${arrows}
</svg>${raws}</div>`;
}

/** The over-time charts of a scenario's result; a result without stepSeries (older, or merged) shows the time chart alone. */
function chartsView(s: ScenarioResult) {
  const steps = new Map(s.roles.flatMap((r) => r.steps.map((st) => [`${r.role}\u0000${st.name}`, st] as const)));
  return {
    timeseries: s.timeseries,
    stepSeries: s.stepSeries ?? [],
    service: (role: string, step: string) => {
      const st = steps.get(`${role}\u0000${step}`);
      return st && st.service.count > 0 ? rawOf(decodeHistogram(st.service.histogram)) : undefined;
    },
  };
}

function scenarioSection(s: ScenarioResult, failureBase: number): string {
  const roles = s.roles
    .map((r) => {
      const rows = r.steps
        .map((st) => {
          const { sent, classes, challenges } = stepRow(st);
          return `<tr><td>${esc(st.name)}</td><td>${sent}</td><td>${st.received}</td>${classes.map((n) => `<td>${n}</td>`).join('')}<td>${challenges}</td><td>${st.timeouts}</td><td>${st.service.count ? ms(st.service.p50) : '-'}</td><td>${st.service.count ? ms(st.service.p99) : '-'}</td><td>${st.service.count ? ms(st.service.max) : '-'}</td><td>${st.corrected.count ? ms(st.corrected.p99) : '-'}</td><td class="codes">${esc(Object.entries(st.codes).map(([k, v]) => `${k}×${v}`).join(' '))}${codesBar(st)}</td></tr>`;
        })
        .join('');
      // A conformance case plays each step once: one sample is no curve (the RFC section table says more).
      const charts = r.steps
        .filter((st) => st.service.count > 0 && !s.cases)
        .map((st) => `<figure class="latency-chart" data-step="${esc(st.name)}"><figcaption>${esc(st.name)}: latency by percentile</figcaption>${percentileChart(st)}</figure>`)
        .join('');
      const delays = r.steps
        .map((st) => [st.name, pddText(st)] as const)
        .filter(([, text]) => text)
        .map(([name, text]) => `<p class="pdd">${esc(name)}: ${esc(text!)}</p>`)
        .join('');
      const reasons = Object.entries(r.failureReasons)
        .sort((a, b) => b[1] - a[1])
        .map(([why, n]) => `<li>${n} × ${esc(reasonText(why))}</li>`)
        .join('');
      return `<h3>${esc(r.role)}: ${r.started} started, ${r.passed} passed, ${r.failed} failed${r.dropped ? `, ${r.dropped} dropped` : ''}</h3>
<table class="steps"><thead><tr><th>step</th><th>sent</th><th>recv</th><th>1xx</th><th>2xx</th><th>3xx</th><th>4xx</th><th>5xx</th><th>6xx</th><th title="digest challenges (401/407) answered with credentials">challenges</th><th>timeout</th><th>p50</th><th>p99</th><th>max</th><th>corr. p99</th><th>codes</th></tr></thead><tbody>${rows}</tbody></table>
${delays}
${reasons ? `<ul class="reasons">${reasons}</ul>` : ''}
<div class="charts">${charts}</div>`;
    })
    .join('');
  const ladders = s.failures.slice(0, 10).map((f, i) => ladder(f, failureBase + i)).join('');
  return `<section class="scenario"><h2>${esc(s.name)} <small>${esc(s.file)}</small></h2>
${roles}
${sessionsText(s) ? `<p class="sessions">${esc(sessionsText(s)!)}</p>` : ''}
${s.media ? mediaHtml(s.media, esc) : ''}
<p class="generator">${esc(generatorLine(s.health))}</p>
${s.cases ? rfcSectionTable(s.cases) : overTimeCharts(chartsView(s))}
${ladders ? `<h3>failed instances</h3>${ladders}` : ''}
</section>`;
}

export function renderHtml(r: RunResult): string {
  // The verdict is verdictOf's (the console's and JUnit's), with its reasons.
  const v = verdictOf(r);
  const t = r.totals;
  const counts = r.kind === 'conform'
    ? `${t.passed + t.failed + t.notApplicable + t.notRun} cases: ${t.passed} passed, ${t.failed} failed, ${t.notApplicable} not applicable, ${t.notRun} not run`
    : `${t.started} started, ${t.passed} passed, ${t.failed} failed${t.dropped ? `, ${t.dropped} dropped` : ''}`;
  const reasons = v.reasons.length ? `<ul class="reasons">${v.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';
  let base = 0;
  const sections = r.scenarios
    .map((s) => {
      const html = scenarioSection(s, base);
      base += s.failures.length;
      return html;
    })
    .join('');
  const thresholds = r.thresholds.length
    ? `<table class="thresholds"><tbody>${r.thresholds.map((t) => `<tr class="${t.ok ? 'ok' : 'bad'}"><td>${t.ok ? '✓' : '✗'}</td><td><code>${esc(t.expr)}</code></td><td>${t.value === null ? 'no data' : esc(formatMeasured(t.value, t.unit))}</td></tr>`).join('')}</tbody></table>`
    : '<p class="muted">no thresholds</p>';
  const conformance = r.conformance.length
    ? `<table class="conformance"><thead><tr><th>check</th><th>RFC</th><th>passed</th><th>failed</th><th>examples</th></tr></thead><tbody>${r.conformance.map((c) => `<tr><td>${esc(c.id)}</td><td>${esc(c.rfc)} §${esc(c.section)}</td><td>${c.passed}</td><td>${c.failed}</td><td>${c.examples.map((e) => `<pre>${esc(e)}</pre>`).join('')}</td></tr>`).join('')}</tbody></table>`
    : '<p class="muted">no conformance checks ran in this run</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sipstorm report: ${esc(v.verdict)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px} h2 small{color:#777;font-weight:normal;font-size:13px}
h3{font-size:15px;margin:18px 0 6px} .muted{color:#777}
#verdict{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:bold}
#verdict.passed{background:#1a7f37} #verdict.failed{background:#cf222e} .partial{background:#fff8c5;border:1px solid #bf8700;padding:6px 10px;font-weight:600}
table{border-collapse:collapse;margin:6px 0} td,th{border:1px solid #ddd;padding:3px 7px;text-align:right} td:first-child,th:first-child{text-align:left}
td.codes{text-align:left;min-width:140px} tr.bad td{background:#ffebe9} tr.ok td{background:#dafbe1}
.bar{display:flex;height:6px;width:140px;margin-top:3px;background:#eee} .bar span{display:block;height:6px}
${CHART_CSS}
table.rfc-sections td.failed{color:#cf222e;font-weight:600}
.ladder{border:1px solid #ddd;padding:8px;margin:10px 0;background:#fff} .ladder svg{width:560px;max-width:100%;height:auto}
.ladder .lifeline{stroke:#8c959f;stroke-dasharray:4 3} .ladder .node{font-weight:600;font-size:12px}
.ladder .arrow{cursor:pointer} .ladder .arrow line{stroke:#24292f;stroke-width:1.5} .ladder .arrow polygon{fill:#24292f} .ladder .arrow text{font-size:11px;font-family:ui-monospace,monospace}
.ladder .arrow:hover text,.ladder .arrow.open text{fill:#0969da}
pre.raw-message{background:#f6f8fa;border:1px solid #ddd;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap}
@media print{.ladder pre.raw-message{display:block!important} body{margin:0} svg.chart{border:none}}
</style></head><body>
<h1>sipstorm report <span id="verdict" class="${esc(v.verdict)}">${v.verdict === 'passed' ? 'PASSED' : 'FAILED'}</span></h1>
${reasons}<p>${counts}${r.interrupted ? ' (interrupted)' : ''} · target <code>${esc(r.settings.target)}</code>${r.settings.embeddedServer ? ' (embedded server)' : ''} · ${r.settings.workers} workers · ${esc(r.startedAt)} · ${(r.durationMs / 1000).toFixed(1)} s · sipstorm ${esc(r.tool.version)}</p>
${partialNote(r) ? `<p id="partial" class="partial">${esc(partialNote(r)!)}</p>` : ''}
<h2>thresholds</h2>${thresholds}
${sections}
<h2>conformance</h2>${conformance}
<script>
document.querySelectorAll('.ladder .arrow').forEach(function (a) {
  function toggle() { var p = document.getElementById(a.getAttribute('data-raw')); if (p) { p.hidden = !p.hidden; a.classList.toggle('open', !p.hidden); } }
  a.addEventListener('click', toggle);
  a.addEventListener('keydown', function (e) { if (e.key === 'Enter') toggle(); });
});
</script>
</body></html>
`;
}

export function writeHtml(path: string, r: RunResult): void {
  writeFileAtomic(path, renderHtml(r));
}
