// Ping/pong keep-alive of WebSocket connections (RFC 6455 §5.5.2, RFC 7118
// §6 leaves keep-alive to the WebSocket layer): one interval per period for
// every connection of the process, not a timer per connection, since a worker
// holds tens of thousands of them (one per simulated UA). A connection that
// did not answer the previous ping when the next one is due is dead.

import type { WebSocket } from 'ws';

interface Watched {
  alive: boolean;
  dead(): void;
}

class Pinger {
  readonly watched = new Map<WebSocket, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  add(ws: WebSocket, dead: () => void): void {
    const w: Watched = { alive: true, dead };
    this.watched.set(ws, w);
    ws.on('pong', markAlive);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.periodMs);
      this.timer.unref();
    }
  }

  delete(ws: WebSocket): void {
    this.watched.delete(ws);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  alive(ws: WebSocket): void {
    const w = this.watched.get(ws);
    if (w) w.alive = true;
  }

  private tick(): void {
    for (const [ws, w] of this.watched) {
      if (!w.alive) {
        this.delete(ws);
        w.dead();
        continue;
      }
      w.alive = false;
      ws.ping();
    }
  }
}

const pingers = new Map<number, Pinger>();

/** `this` is the WebSocket (a shared listener: no closure per connection). */
function markAlive(this: WebSocket): void {
  for (const p of pingers.values()) p.alive(this);
}

/** Pings `ws` every `periodMs`; `dead` is called (once) when it missed a pong. Stops with unwatch. */
export function watchAlive(ws: WebSocket, periodMs: number, dead: () => void): void {
  if (periodMs <= 0) return;
  let p = pingers.get(periodMs);
  if (!p) pingers.set(periodMs, (p = new Pinger(periodMs)));
  p.add(ws, dead);
}

export function unwatchAlive(ws: WebSocket): void {
  for (const p of pingers.values()) if (p.watched.has(ws)) p.delete(ws);
}
