// Server-side nonces: self-validating (an HMAC over the issue time with a
// per-process secret), so a registrar serving 100,000 UAs keeps no per-nonce
// memory to check freshness; nonce-count replay is caught in a bounded map.

import { createHmac, randomBytes } from 'node:crypto';

export type NonceVerdict = 'ok' | 'stale' | 'invalid' | 'replay';

export class NonceStore {
  private readonly secret = randomBytes(16);
  private readonly lastNc = new Map<string, number>();

  constructor(
    private readonly lifetimeMs = 300_000,
    private readonly maxTracked = 200_000,
    private readonly now: () => number = Date.now,
  ) {}

  issue(): string {
    const t = Math.floor(this.now()).toString(36);
    const salt = randomBytes(4).toString('hex');
    return `${t}.${salt}.${this.sign(`${t}.${salt}`)}`;
  }

  /** Checks a nonce we issued, and that nc (hex, when qop is used) grows for this nonce. */
  check(nonce: string, nc?: string): NonceVerdict {
    const parts = nonce.split('.');
    if (parts.length !== 3) return 'invalid';
    const [t, salt, mac] = parts as [string, string, string];
    if (this.sign(`${t}.${salt}`) !== mac) return 'invalid';
    const issued = parseInt(t, 36);
    if (!Number.isFinite(issued) || this.now() - issued > this.lifetimeMs) return 'stale';
    if (nc !== undefined) {
      const n = parseInt(nc, 16);
      if (!Number.isFinite(n)) return 'invalid';
      const last = this.lastNc.get(nonce) ?? 0;
      if (n <= last) return 'replay';
      if (this.lastNc.size >= this.maxTracked) this.lastNc.delete(this.lastNc.keys().next().value as string);
      this.lastNc.delete(nonce);
      this.lastNc.set(nonce, n);
    }
    return 'ok';
  }

  private sign(text: string): string {
    return createHmac('sha256', this.secret).update(text).digest('base64url').slice(0, 22);
  }
}
