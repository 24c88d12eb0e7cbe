// The live endpoints of a run, started before its traffic and ended after its
// reports: /metrics (Prometheus text, rendered on each scrape from the latest
// merged snapshots) and the dashboard, on their own ports. The run feeds
// them through `run` (a LiveRun); finish() offers the final report, keeps
// them up for the linger time (a signal ends that wait), then closes them.

import type { LiveServer } from './http-server.js';
import type { LiveRun } from './run-state.js';

export interface LiveOptions {
  host: string;
  metricsPort?: number;
  dashboardPort?: number;
  lingerMs: number;
}

export interface LiveEndpoints {
  run: LiveRun;
  /** What to print: the URLs served. */
  urls: string[];
  /** The reports are written: offer the final report, linger (unless `signal` aborts), close. */
  finish(reportHtml: () => string, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Starts what the options ask for; undefined when they ask for nothing. */
export async function startLive(opts: LiveOptions, info: ConstructorParameters<typeof LiveRun>[0]): Promise<LiveEndpoints | undefined> {
  if (opts.metricsPort === undefined && opts.dashboardPort === undefined) return undefined;
  // Loaded only for a run that serves them: the others need none of it.
  const [{ renderPrometheus }, { dashboard }, { listenLive }, state] = await Promise.all([
    import('../reporters/prometheus.js'), import('./dashboard.js'), import('./http-server.js'), import('./run-state.js'),
  ]);
  const run = new state.LiveRun(info);
  const servers: LiveServer[] = [];
  const urls: string[] = [];
  const board = opts.dashboardPort !== undefined ? dashboard(run) : undefined;
  const close = async () => {
    board?.close();
    await Promise.all(servers.map((s) => s.close()));
  };
  try {
    if (opts.metricsPort !== undefined) {
      const s = await listenLive('--metrics-port', opts.host, opts.metricsPort, {
        '/metrics': (_req, res) => {
          res.writeHead(200, { 'content-type': PROMETHEUS_TEXT }).end(renderPrometheus(run.exported()));
        },
      });
      servers.push(s);
      urls.push(`metrics: ${s.url}/metrics`);
    }
    if (board) {
      const s = await listenLive('--dashboard', opts.host, opts.dashboardPort!, board.routes);
      servers.push(s);
      urls.push(`dashboard: ${s.url}/`);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    run,
    urls,
    close,
    async finish(reportHtml, signal) {
      if (board) board.finish(reportHtml());
      if (opts.lingerMs > 0 && !signal.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, opts.lingerMs);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
      await close();
    },
  };
}
