// Building new messages: branch, tag and Call-ID generators unique at load-test
// volume (a per-process random prefix plus a counter, never Math.random alone),
// responses per RFC 3261 §8.2.6, and requests per §8.1.1.

import { randomBytes } from 'node:crypto';
import { SipMessage } from './message.js';
import { reasonPhrase } from './reasons.js';

// Per-thread prefix: worker_threads each import this module afresh and draw their own.
const PREFIX = randomBytes(6).toString('hex');
let counter = 0;

/** RFC 3261 §8.1.1.7: branch begins with the magic cookie z9hG4bK and is unique in space and time. */
export function newBranch(): string {
  return `z9hG4bK${PREFIX}${(++counter).toString(36)}`;
}

export function newTag(): string {
  return `${PREFIX.slice(0, 6)}${(++counter).toString(36)}`;
}

export function newCallId(host: string): string {
  return `${PREFIX}${(++counter).toString(36)}@${host}`;
}

/**
 * RFC 3261 §8.2.6.2: the response copies Via (all, in order), From, Call-ID and
 * CSeq, and To, adding a tag when the request had none and one is given.
 */
export function createResponse(req: SipMessage, status: number, reason?: string, toTag?: string): SipMessage {
  const res = SipMessage.response(status, reason ?? reasonPhrase(status));
  for (const h of req.headers) {
    if (h.name === 'Via' || h.name === 'From' || h.name === 'Call-ID' || h.name === 'CSeq') res.headers.push({ name: h.name, value: h.value });
    else if (h.name === 'To') {
      let value = h.value;
      if (toTag && !/;\s*tag=/i.test(value)) value += `;tag=${toTag}`;
      res.headers.push({ name: 'To', value });
    }
  }
  return res;
}

export interface RequestInit {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  via: string;
  maxForwards?: number;
  contact?: string;
  headers?: [string, string][];
  body?: Buffer | string;
  contentType?: string;
}

/** RFC 3261 §8.1.1: a request with the mandatory headers in the usual order. */
export function createRequest(init: RequestInit): SipMessage {
  const msg = SipMessage.request(init.method, init.uri);
  const h = msg.headers;
  h.push({ name: 'Via', value: init.via });
  h.push({ name: 'Max-Forwards', value: String(init.maxForwards ?? 70) });
  h.push({ name: 'From', value: init.from });
  h.push({ name: 'To', value: init.to });
  h.push({ name: 'Call-ID', value: init.callId });
  h.push({ name: 'CSeq', value: `${init.cseq} ${init.method}` });
  if (init.contact) h.push({ name: 'Contact', value: init.contact });
  for (const [name, value] of init.headers ?? []) msg.add(name, value);
  if (init.body !== undefined && init.body.length > 0) {
    msg.body = typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : init.body;
    if (init.contentType && !msg.has('Content-Type')) msg.add('Content-Type', init.contentType);
  }
  return msg;
}
