// The location service (RFC 3261 §10.3): address-of-record -> bindings with
// expiry, in memory. Expiry is checked lazily on lookup and swept periodically.

import type { Endpoint } from '../transport/index.js';

export interface Binding {
  contact: string;
  /** Contact URI without the name-addr decoration. */
  uri: string;
  expiresAt: number;
  callId: string;
  cseq: number;
  /** Where the REGISTER came from: requests to this binding go there (NAT-friendly, like Kamailio's received). */
  source: Endpoint;
}

export class LocationService {
  private readonly aors = new Map<string, Binding[]>();

  constructor(private readonly now: () => number) {}

  /** Live bindings of an AOR ('user@domain', lower-cased domain). */
  lookup(aor: string): Binding[] {
    const list = this.aors.get(aor);
    if (!list) return [];
    const t = this.now();
    const live = list.filter((b) => b.expiresAt > t);
    if (live.length !== list.length) {
      if (live.length === 0) this.aors.delete(aor);
      else this.aors.set(aor, live);
    }
    return live;
  }

  /** Any live binding of a user name in any domain (the embedded server accepts every domain). */
  lookupUser(user: string): Binding[] {
    const out: Binding[] = [];
    for (const aor of this.aors.keys()) if (aor.slice(0, aor.lastIndexOf('@')) === user) out.push(...this.lookup(aor));
    return out;
  }

  set(aor: string, bindings: Binding[]): void {
    if (bindings.length === 0) this.aors.delete(aor);
    else {
      this.aors.set(aor, bindings);
      this.everRegistered.add(aor);
    }
  }

  /** Every AOR that held a binding at some point (load tests register and unregister). */
  readonly everRegistered = new Set<string>();

  /** Finds the binding whose contact URI is exactly this one (in-dialog requests to a registered UA). */
  byContactUri(uri: string): Binding | undefined {
    const aor = this.byUri.get(uri);
    return aor ? this.lookup(aor).find((b) => b.uri === uri) : undefined;
  }

  /** Index contact URI -> AOR, kept by the registrar. */
  readonly byUri = new Map<string, string>();

  sweep(): void {
    for (const aor of [...this.aors.keys()]) this.lookup(aor);
  }

  /** Number of AORs with at least one live binding. */
  get size(): number {
    return this.aors.size;
  }

  aorList(): string[] {
    this.sweep();
    return [...this.aors.keys()];
  }
}
