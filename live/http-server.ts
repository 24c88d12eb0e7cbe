// The small HTTP server behind --metrics-port and --dashboard: listens on one
// address, answers GET by path from a table of routes, 404 to anything else,
// 405 to other methods. A port that cannot be had is one error line (exit 3)
// before any traffic. Keeps its open responses (the dashboard's event
// streams) so that close() ends them rather than waiting on them.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SipstormError } from '../engine/errors.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface LiveServer {
  /** http://HOST:PORT, with the port bound (an asked port 0 is the one the system gave). */
  url: string;
  close(): Promise<void>;
}

/** Exit 3 (the run could not be carried out), as any error with a code the CLI does not call bad input. */
export class LiveListenError extends SipstormError {
  constructor(flag: string, host: string, port: number, reason: string) {
    super('LIVE_LISTEN', `${flag}: cannot listen on ${host.includes(':') ? `[${host}]` : host}:${port}: ${reason}`);
  }
}

export function listenLive(flag: string, host: string, port: number, routes: Record<string, Route>): Promise<LiveServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: ${path.slice(0, 100)}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET\n');
      return;
    }
    route(req, res);
  });
  // Scrapers and browsers keep connections alive; a finished run must not wait on them.
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new LiveListenError(flag, host, port, err.code === 'EADDRINUSE' ? 'address in use' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.message)));
    server.listen(port, host, () => {
      const bound = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
