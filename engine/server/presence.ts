// The presence server: SUBSCRIBE/NOTIFY for the 'presence' event package
// (RFC 6665, RFC 3856), PUBLISH (RFC 3903) and the SERVICE method carrying a
// presence document (the Office Communications Server verb). A presentity's
// state is the composition of its live publications (RFC 3903 §4: every
// tuple, note and extension element each one published, as published); every
// change of it is sent to all of its watchers.

import { createRequest, newTag, parseUri, type SipMessage } from '../codec/index.js';
import type { TimerHandle } from '../timer/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { Endpoint } from '../transport/index.js';
import { authenticate } from './auth.js';
import { bump, type ServerCore } from './core.js';
import { buildPidf, composePidf, PIDF_NS, readBasicStatus, readPidf, type BasicStatus, type PidfDocument } from './pidf.js';

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
  doc: PidfDocument;
  expiresAt: number;
  /** The wheel timer that removes it when it is not refreshed in time. */
  expiry?: TimerHandle;
}

/**
 * Live publications one presentity may have at once (each PUBLISH without SIP-If-Match makes one, RFC 3903 §4).
 * Beyond it a new one is refused with 503 and Retry-After, so that one account cannot grow its NOTIFYs without bound.
 */
const MAX_PUBLICATIONS = 32;

export class PresenceServer {
  private readonly subs = new Map<string, Subscription>();
  private readonly byPresentity = new Map<string, Set<Subscription>>();
  private readonly status = new Map<string, BasicStatus>();
  /** Live publications by presentity, oldest first: the order their documents are composed in. */
  private readonly publications = new Map<string, Publication[]>();
  private etagCounter = 0;

  constructor(private readonly core: ServerCore) {}

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /**
   * The presence document of a presentity: its publications composed (RFC 3903 §4), or, when it has none, a
   * document of ours with the status SERVICE set (closed by default).
   */
  documentOf(user: string, entity: string): string {
    const pubs = this.publications.get(user);
    if (pubs?.length) return composePidf(entity, pubs.map((p) => p.doc));
    return buildPidf(entity, this.status.get(user) ?? 'closed');
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
    const ifMatch = req.get('SIP-If-Match')?.trim();
    const pubs = this.publications.get(presentity) ?? [];
    const pub = ifMatch === undefined ? undefined : pubs.find((p) => p.etag === ifMatch);
    if (ifMatch !== undefined && !pub) {
      core.answer(tx, 412); // RFC 3903 §6 step 4
      return;
    }
    const before = this.documentOf(presentity, '');
    if (expires === 0) {
      // §6 step 6: an Expires of zero removes the publication the entity-tag names.
      if (pub) this.drop(presentity, pub);
      core.answer(tx, 200, { headers: [['Expires', '0']] });
    } else {
      let doc: PidfDocument | undefined;
      if (req.body.length > 0) {
        doc = publishedDocument(req.body.toString('utf8'));
        if (!doc) {
          core.answer(tx, 400, { reason: 'Bad Request (no presence status in body)' });
          return;
        }
      } else if (!pub) {
        core.answer(tx, 400, { reason: 'Bad Request (initial PUBLISH needs a body)' });
        return;
      }
      if (!pub && pubs.length >= MAX_PUBLICATIONS) {
        const first = Math.min(...pubs.map((p) => p.expiresAt));
        core.answer(tx, 503, { reason: 'Service Unavailable (too many publications for this presentity)', headers: [['Retry-After', String(Math.max(1, Math.ceil((first - core.wheel.now()) / 1000)))]] });
        return;
      }
      // §6 step 7: every successful PUBLISH gets a new entity-tag; a refresh keeps the document, a modify replaces it.
      const etag = `e${++this.etagCounter}x${Date.now().toString(36)}`;
      const expiresAt = core.wheel.now() + expires * 1000;
      if (pub) {
        pub.expiry?.cancel();
        pub.etag = etag;
        pub.expiresAt = expiresAt;
        if (doc) pub.doc = doc;
        pub.expiry = this.expireLater(presentity, pub, expires);
      } else {
        const created: Publication = { etag, doc: doc!, expiresAt };
        created.expiry = this.expireLater(presentity, created, expires);
        pubs.push(created);
        this.publications.set(presentity, pubs);
      }
      core.answer(tx, 200, { headers: [['SIP-ETag', etag], ['Expires', String(expires)]] });
    }
    if (this.documentOf(presentity, '') !== before) this.notifyAll(presentity);
  }

  /** RFC 3903 §4: a publication not refreshed in time is removed, and the watchers told of the state without it. */
  private expireLater(presentity: string, pub: Publication, seconds: number): TimerHandle {
    return this.core.wheel.schedule(seconds * 1000, () => {
      const before = this.documentOf(presentity, '');
      this.drop(presentity, pub);
      if (this.documentOf(presentity, '') !== before) this.notifyAll(presentity);
    });
  }

  private drop(presentity: string, pub: Publication): void {
    pub.expiry?.cancel();
    const pubs = this.publications.get(presentity);
    if (!pubs) return;
    const i = pubs.indexOf(pub);
    if (i >= 0) pubs.splice(i, 1);
    if (pubs.length === 0) this.publications.delete(presentity);
  }

  /** SERVICE with a presence body sets the sender's own presence, in place of what it published. */
  handleService(tx: ServerTransaction): void {
    const core = this.core;
    const user = authenticate(core, tx);
    if (user === undefined) return;
    const status = readBasicStatus(tx.request.body.toString('utf8'));
    if (!status) {
      core.answer(tx, 400, { reason: 'Bad Request (no presence status in body)' });
      return;
    }
    const before = this.documentOf(user, '');
    this.status.set(user, status);
    for (const pub of [...(this.publications.get(user) ?? [])]) this.drop(user, pub);
    core.answer(tx, 200);
    if (this.documentOf(user, '') !== before) this.notifyAll(user);
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
    const body = this.documentOf(sub.presentity, sub.presentityUri);
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

/**
 * What a PUBLISH body contributes: a PIDF document as it is, or, for the looser documents that only state a status
 * (OCS style), one tuple saying it.
 */
function publishedDocument(body: string): PidfDocument | undefined {
  const doc = readPidf(body);
  if (doc) return doc;
  const status = readBasicStatus(body);
  if (!status) return undefined;
  return { namespaces: new Map([['', PIDF_NS]]), children: [`<tuple id="t1"><status><basic>${status}</basic></status></tuple>`] };
}
