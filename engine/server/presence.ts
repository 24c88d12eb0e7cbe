// The presence server: SUBSCRIBE/NOTIFY for the 'presence' event package
// (RFC 6665, RFC 3856), PUBLISH (RFC 3903) and the SERVICE method carrying a
// presence document (the Office Communications Server verb). Every change of
// a presentity's status is sent to all of its watchers.

import { createRequest, newTag, parseUri, type SipMessage } from '../codec/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import { authenticate } from './auth.js';
import { bump, type ServerCore } from './core.js';
import { buildPidf, readBasicStatus, type BasicStatus } from './pidf.js';

interface Subscription {
  id: string;
  presentity: string;
  presentityUri: string;
  callId: string;
  localTag: string;
  /** The watcher's From (with tag): our NOTIFY's To. */
  watcherFrom: string;
  watcherContact: string;
  dest: Endpoint;
  cseq: number;
  expiresAt: number;
}

interface Publication {
  etag: string;
  status: BasicStatus;
  expiresAt: number;
}

export class PresenceServer {
  private readonly subs = new Map<string, Subscription>();
  private readonly byPresentity = new Map<string, Set<Subscription>>();
  private readonly status = new Map<string, BasicStatus>();
  private readonly publications = new Map<string, Publication>();
  private etagCounter = 0;

  constructor(private readonly core: ServerCore) {}

  get subscriptionCount(): number {
    return this.subs.size;
  }

  statusOf(user: string): BasicStatus {
    const pub = this.publications.get(user);
    if (pub && pub.expiresAt > this.core.wheel.now()) return pub.status;
    return this.status.get(user) ?? 'closed';
  }

  /** RFC 6665 §4.2.1.1 (and RFC 3903 §6 for PUBLISH): an unknown event package is answered 489 with Allow-Events. */
  private acceptsEvent(tx: ServerTransaction): boolean {
    const event = (tx.request.get('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event === 'presence') return true;
    this.core.answer(tx, 489, { headers: [['Allow-Events', 'presence']] });
    return false;
  }

  handleSubscribe(tx: ServerTransaction, source: Endpoint): void {
    const core = this.core;
    const req = tx.request;
    if (!this.acceptsEvent(tx)) return;
    if (authenticate(core, tx) === undefined) return;
    const uri = parseUri(req.uri);
    const presentity = uri.user ?? '';
    const expires = Math.min(req.expires() ?? 3600, 86400);
    const toTag = req.to().tag;
    const id = `${req.callId()}|${req.from().tag ?? ''}`;
    let sub = this.subs.get(id);
    if (toTag && (!sub || sub.localTag !== toTag)) {
      core.answer(tx, 481);
      return;
    }
    const contact = req.contacts()[0];
    if (!sub) {
      if (!contact) {
        core.answer(tx, 400, { reason: 'Bad Request (SUBSCRIBE without Contact)' });
        return;
      }
      sub = {
        id, presentity, presentityUri: `sip:${presentity}@${uri.host}`, callId: req.callId(), localTag: newTag(),
        watcherFrom: req.get('From')!, watcherContact: contact.uri, dest: source, cseq: 0, expiresAt: 0,
      };
      if (expires > 0) {
        this.subs.set(id, sub);
        let set = this.byPresentity.get(presentity);
        if (!set) this.byPresentity.set(presentity, (set = new Set()));
        set.add(sub);
      }
    } else if (contact) {
      sub.watcherContact = contact.uri;
    }
    sub.expiresAt = core.wheel.now() + expires * 1000;
    // RFC 6665 §4.2.1.1: 200 with the granted Expires and a Contact; then an immediate NOTIFY.
    core.answer(tx, 200, {
      toTag: sub.localTag,
      headers: [['Expires', String(expires)], ['Contact', `<sip:${presentity}@${core.hostPort(source.protocol)}>`]],
    });
    if (expires === 0) {
      this.notify(sub, 'terminated;reason=timeout');
      this.remove(sub);
      return;
    }
    this.notify(sub, `active;expires=${expires}`);
  }

  /** PUBLISH (RFC 3903 §6): create, refresh (SIP-If-Match), modify or remove an event state. */
  handlePublish(tx: ServerTransaction): void {
    const core = this.core;
    const req = tx.request;
    if (!this.acceptsEvent(tx)) return;
    const user = authenticate(core, tx);
    if (user === undefined) return;
    const presentity = parseUri(req.uri).user ?? user;
    const expires = Math.min(req.expires() ?? 3600, 86400);
    const ifMatch = req.get('SIP-If-Match');
    let pub = this.publications.get(presentity);
    if (ifMatch !== undefined && (!pub || pub.etag !== ifMatch)) {
      core.answer(tx, 412); // RFC 3903 §6 step 4
      return;
    }
    const before = this.statusOf(presentity);
    if (expires === 0) {
      this.publications.delete(presentity);
      core.answer(tx, 200, { headers: [['Expires', '0']] });
    } else {
      let status: BasicStatus | undefined;
      if (req.body.length > 0) {
        status = readBasicStatus(req.body.toString('utf8'));
        if (!status) {
          core.answer(tx, 400, { reason: 'Bad Request (no presence status in body)' });
          return;
        }
      } else if (!pub) {
        core.answer(tx, 400, { reason: 'Bad Request (initial PUBLISH needs a body)' });
        return;
      }
      pub = { etag: `e${++this.etagCounter}x${Date.now().toString(36)}`, status: status ?? pub!.status, expiresAt: core.wheel.now() + expires * 1000 };
      this.publications.set(presentity, pub);
      core.answer(tx, 200, { headers: [['SIP-ETag', pub.etag], ['Expires', String(expires)]] });
    }
    if (this.statusOf(presentity) !== before) this.notifyAll(presentity);
  }

  /** SERVICE with a presence body changes the sender's own presence. */
  handleService(tx: ServerTransaction): void {
    const core = this.core;
    const user = authenticate(core, tx);
    if (user === undefined) return;
    const status = readBasicStatus(tx.request.body.toString('utf8'));
    if (!status) {
      core.answer(tx, 400, { reason: 'Bad Request (no presence status in body)' });
      return;
    }
    const before = this.statusOf(user);
    this.status.set(user, status);
    this.publications.delete(user);
    core.answer(tx, 200);
    if (this.statusOf(user) !== before) this.notifyAll(user);
  }

  private notifyAll(presentity: string): void {
    const now = this.core.wheel.now();
    for (const sub of [...(this.byPresentity.get(presentity) ?? [])]) {
      if (sub.expiresAt <= now) {
        this.notify(sub, 'terminated;reason=timeout');
        this.remove(sub);
      } else {
        this.notify(sub, `active;expires=${Math.round((sub.expiresAt - now) / 1000)}`);
      }
    }
  }

  /** RFC 6665 §4.2.2: NOTIFY within the subscription dialog, with Event and Subscription-State. */
  private notify(sub: Subscription, state: string): void {
    const core = this.core;
    sub.cseq++;
    const body = buildPidf(sub.presentityUri, this.statusOf(sub.presentity));
    const req: SipMessage = createRequest({
      method: 'NOTIFY',
      uri: sub.watcherContact,
      from: `<${sub.presentityUri}>;tag=${sub.localTag}`,
      to: sub.watcherFrom,
      callId: sub.callId,
      cseq: sub.cseq,
      via: core.via(sub.dest.protocol),
      contact: `<sip:${sub.presentity}@${core.hostPort(sub.dest.protocol)}>`,
      headers: [['Event', 'presence'], ['Subscription-State', state]],
      body,
      contentType: 'application/pidf+xml',
    });
    core.stats.notifiesSent++;
    bump(core.stats.requests, 'NOTIFY(out)');
    core.sendRequest(req, sub.dest, {
      onResponse: (res) => {
        // RFC 6665 §4.1.3: a 481 (or other failure) to NOTIFY ends the subscription.
        if (res.status >= 300) this.remove(sub);
      },
      onTimeout: () => this.remove(sub),
    });
  }

  private remove(sub: Subscription): void {
    this.subs.delete(sub.id);
    this.byPresentity.get(sub.presentity)?.delete(sub);
  }
}
