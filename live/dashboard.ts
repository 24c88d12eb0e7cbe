// The live dashboard (--dashboard PORT): a page that shows the run's charts
// as the HTML report draws them (html-charts.ts), updated every second over
// server-sent events, and a link to the final report once it is written.
// The charts are drawn here, on the main thread, once per second for all
// viewers; the page's few lines of inline script only put them in place. No
// external script, style or font: the Content-Security-Policy forbids them.

import type { ServerResponse } from 'node:http';
import { overTimeCharts, CHART_CSS, esc } from '../reporters/html-charts.js';
import type { LiveRun } from './run-state.js';
import type { Route } from './http-server.js';

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:";

/** The charts of every scenario so far, and one status line. */
export function liveView(live: LiveRun): { html: string; status: string } {
  const parts: string[] = [];
  let status = 'starting';
  for (const s of live.views) {
    const snap = s.snapshot;
    const sum = (k: 'started' | 'passed' | 'failed' | 'running' | 'dropped') => snap.roles.reduce((a, r) => a + r[k], 0);
    const last = s.timeseries[s.timeseries.length - 1];
    status = `${s.name}: ${((last?.t ?? 0) / 1000).toFixed(0)} s, ${sum('started')} started, ${sum('passed')} passed, ${sum('failed')} failed, ${sum('running')} active${sum('dropped') ? `, ${sum('dropped')} dropped` : ''}${s.finished ? ' (ended)' : `, ${last?.rate ?? 0}/s${s.askedRate !== undefined ? ` (asked ${s.askedRate}/s)` : ''}`}`;
    const service = (role: string, step: string) => snap.roles.find((r) => r.role === role)?.steps.find((st) => st.name === step)?.service;
    parts.push(`<section class="scenario"><h2>${esc(s.name)}</h2><p class="status">${esc(status)}</p>${overTimeCharts({ timeseries: s.timeseries, stepSeries: s.stepSeries, service })}</section>`);
  }
  return { html: parts.join(''), status };
}

function page(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sipstorm live</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24;max-width:1200px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:24px} .muted{color:#777}
#state{display:inline-block;padding:2px 10px;border-radius:4px;background:#0969da;color:#fff;font-weight:600;font-size:13px} #state.ended{background:#57606a}
#report{font-weight:600}
${CHART_CSS}
</style></head><body data-updates="0">
<h1>sipstorm live <span id="state">running</span></h1>
<p id="status" class="muted">waiting for the first second of the run</p>
<p id="report" hidden>The run ended: <a href="/report">open the final report</a></p>
<div id="live"></div>
<script>
(function () {
  var updates = 0;
  var events = new EventSource('/events');
  events.addEventListener('update', function (e) {
    var d = JSON.parse(e.data);
    document.getElementById('live').innerHTML = d.html;
    document.getElementById('status').textContent = d.status;
    document.body.setAttribute('data-updates', String(++updates));
  });
  events.addEventListener('done', function () {
    document.getElementById('report').hidden = false;
    var s = document.getElementById('state');
    s.textContent = 'ended';
    s.className = 'ended';
    document.body.setAttribute('data-done', '1');
    events.close();
  });
})();
</script>
</body></html>
`;
}

/** The dashboard's routes; finish() once the reports are written offers the final report. */
export function dashboard(live: LiveRun): { routes: Record<string, Route>; finish(reportHtml: string): void; close(): void } {
  const clients = new Set<ServerResponse>();
  let report: string | undefined;
  const send = (res: ServerResponse, event: string, data: string) => res.write(`event: ${event}\ndata: ${data}\n\n`);
  // Drawn only while someone watches: a run nobody looks at pays nothing for it.
  const stop = live.onChange(() => {
    if (clients.size === 0) return;
    const update = JSON.stringify(liveView(live));
    for (const res of clients) send(res, 'update', update);
  });
  return {
    routes: {
      '/': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'cache-control': 'no-store' }).end(page());
      },
      '/events': (req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
        // What a viewer who opens the page mid-run sees at once, then every second.
        send(res, 'update', JSON.stringify(liveView(live)));
        if (report !== undefined) send(res, 'done', '{}');
        clients.add(res);
        req.on('close', () => clients.delete(res));
      },
      '/report': (_req, res) => {
        if (report === undefined) res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('the run has not ended: its report is not written yet\n');
        else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP }).end(report);
      },
    },
    finish(reportHtml: string) {
      report = reportHtml;
      for (const res of clients) send(res, 'done', '{}');
    },
    close() {
      stop();
      for (const res of clients) res.end();
      clients.clear();
    },
  };
}
