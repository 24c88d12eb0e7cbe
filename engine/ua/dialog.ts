// The dialog state a simulated UA keeps (RFC 3261 §12): one dialog per
// scenario instance, created by a 2xx to INVITE or SUBSCRIBE it sent, or by a
// response it sent to an INVITE; and the requests built within it.

import { createRequest, newBranch, type SipMessage } from '../codec/index.js';

export interface DialogState {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq: number;
}

function uriOf(nameAddr: string): string {
  const m = /<([^>]*)>/.exec(nameAddr);
  return m ? m[1]! : nameAddr.split(';')[0]!.trim();
}

/** §12.1.2: the UAC's view, from the request it sent and the response. */
export function uacDialog(req: SipMessage, res: SipMessage): DialogState {
  return {
    callId: req.callId(),
    localTag: req.from().tag ?? '',
    remoteTag: res.to().tag ?? '',
    localUri: req.from().uri,
    remoteUri: res.to().uri,
    remoteTarget: res.contacts()[0]?.uri ?? req.uri,
    routeSet: res.getAll('Record-Route').reverse(),
    localSeq: req.cseq().seq,
    remoteSeq: 0,
  };
}

/** §12.1.1: the UAS's view, from the request it received. */
export function uasDialog(req: SipMessage, localTag: string): DialogState {
  return {
    callId: req.callId(),
    localTag,
    remoteTag: req.from().tag ?? '',
    localUri: req.to().uri,
    remoteUri: req.from().uri,
    remoteTarget: req.contacts()[0]?.uri ?? uriOf(req.get('From') ?? ''),
    routeSet: req.getAll('Record-Route'),
    localSeq: 0,
    remoteSeq: req.cseq().seq,
  };
}

/** The parts of a request within the dialog that the dialog decides (§12.2.1.1); the rest is the step's. */
export interface DialogRequestParts {
  uri: string;
  routes: string[];
  from: string;
  to: string;
  callId: string;
  cseq: number;
}

/**
 * §12.2.1.1: Request-URI is the remote target (loose routing), Route headers
 * from the route set, CSeq one more than the last (ACK and CANCEL excepted).
 */
export function dialogRequestParts(d: DialogState, method: string, cseqOverride?: number): DialogRequestParts {
  let uri = d.remoteTarget;
  let routes = d.routeSet;
  if (routes.length > 0 && !/;lr\b/i.test(routes[0]!)) {
    // Strict routing (§12.2.1.1): the first route becomes the Request-URI, the remote target goes last.
    uri = uriOf(routes[0]!);
    routes = [...routes.slice(1), `<${d.remoteTarget}>`];
  }
  const cseq = cseqOverride ?? (method === 'ACK' || method === 'CANCEL' ? d.localSeq : ++d.localSeq);
  return { uri, routes, from: `<${d.localUri}>;tag=${d.localTag}`, to: `<${d.remoteUri}>${d.remoteTag ? `;tag=${d.remoteTag}` : ''}`, callId: d.callId, cseq };
}

/** A request within the dialog as a message (the ACK of a 2xx, a digest retry); send steps use send-template.ts. */
export function inDialogRequest(d: DialogState, method: string, via: string, contact: string | undefined, cseqOverride?: number): SipMessage {
  const p = dialogRequestParts(d, method, cseqOverride);
  const req = createRequest({ method, uri: p.uri, from: p.from, to: p.to, callId: p.callId, cseq: p.cseq, via, contact });
  for (const r of p.routes) req.add('Route', r);
  return req;
}

export function viaBranch(via: string): string {
  return via.replace(/branch=[^;]*/, `branch=${newBranch()}`);
}
