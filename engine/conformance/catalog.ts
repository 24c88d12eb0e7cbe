// The catalog of conformance checks run on every message sipstorm receives:
// each with a stable id, the RFC section it comes from, a severity (MUST =
// error, SHOULD = warning) and a one-line explanation. Checks are plain
// functions over the request we sent and the response we got, cheap enough
// to stay on during load runs.

import { parseNameAddr, type SipMessage } from '../codec/index.js';

export interface Check {
  id: string;
  rfc: string;
  section: string;
  severity: 'error' | 'warning';
  text: string;
}

/** Returns undefined when the check passes, a short description of the problem when it fails, null when it does not apply. */
export type ResponseCheck = Check & { run(req: SipMessage, res: SipMessage): string | undefined | null };
export type RequestCheck = Check & { run(req: SipMessage): string | undefined | null };

const TAG_RE = /;\s*tag=([^;\s]+)/i;
const HAS_TAG = /tag/i;

/** The tag parameter of a From/To value; the plain ';tag=' form without a regular expression (every response has two). */
function tagOf(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const i = v.indexOf(';tag=');
  if (i >= 0) {
    let end = i + 5;
    while (end < v.length && v[end] !== ';' && v[end] !== ' ' && v[end] !== '\t') end++;
    if (end > i + 5) return v.slice(i + 5, end);
  }
  return HAS_TAG.test(v) ? TAG_RE.exec(v)?.[1] : undefined;
}

/** The value of a header that appears on one line with one value (no comma): the usual Via of a response. */
function onlyValue(msg: SipMessage, name: string): string | undefined {
  const value = msg.single(name);
  return value === undefined || value.includes(',') ? undefined : value;
}
/**
 * §7.3.1: "Multiple header field rows with the same field-name MAY be present in a message if and only
 * if the entire field-value for that header field is defined as a comma-separated list"; Content-Length
 * (§20.14) is a single number. Differing values are a framing error the codec refuses; equal ones frame
 * the same body, so the message is used and the repetition is a failed MUST here.
 */
function contentLengthProblem(msg: SipMessage): string | undefined {
  const n = msg.count('Content-Length');
  return n > 1 ? `Content-Length appears ${n} times` : undefined;
}

/** §12.1.1 with §8.1.1.8: the Contact of a dialog-creating response is one SIP or SIPS URI, the remote target. */
function dialogContactProblem(res: SipMessage): string | undefined {
  const values = res.getAll('Contact');
  if (values.length === 0) return '2xx to INVITE without Contact';
  if (values.length > 1) return `2xx to INVITE with ${values.length} Contact values`;
  const v = values[0]!.trim();
  if (v === '*') return "2xx to INVITE with 'Contact: *'";
  if (v === '') return '2xx to INVITE with an empty Contact';
  try {
    const uri = parseNameAddr(v, 'Contact').uri;
    return /^sips?:/i.test(uri) ? undefined : `2xx to INVITE with a Contact that is no SIP or SIPS URI: ${uri.slice(0, 60)}`;
  } catch (err) {
    return `2xx to INVITE with a Contact that does not parse: ${(err as Error).message.slice(0, 80)}`;
  }
}

const norm = (v: string | undefined) => (v ?? '').replace(/\s+/g, ' ').trim();
const stripVia = (v: string) => norm(v).replace(/;\s*(received|rport)(=[^;]*)?/gi, '');

/**
 * RFC 3261 §7: "The start-line, each message-header line, and the empty line MUST be terminated by a carriage-return
 * line-feed sequence (CRLF)." The codec reads lines ending in a bare LF all the same (so do Kamailio and most stacks),
 * so the message still worked: a warning (SHOULD level) names the sender that breaks the rule, rather than a failure.
 */
const CRLF_TEXT = 'the start line, each header line and the empty line end in CRLF, not a bare LF';
const bareLf = (msg: SipMessage) => (msg.bareLf ? 'lines end in a bare LF, not CRLF' : undefined);

export const RESPONSE_CHECKS: ResponseCheck[] = [
  {
    id: 'response.via-echoed', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error',
    text: 'the response copies the Via header fields of the request, in order, unchanged (besides received/rport on the top one)',
    run: (req, res) => {
      const one = onlyValue(req, 'Via');
      const a = one !== undefined ? [one] : req.getAll('Via');
      const other = one !== undefined ? onlyValue(res, 'Via') : undefined;
      const b = other !== undefined ? [other] : res.getAll('Via');
      if (a.length !== b.length) return `${b.length} Via values, the request had ${a.length}`;
      // Identical text is the common case: normalise only what differs.
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && stripVia(a[i]!) !== stripVia(b[i]!)) return `Via '${b[i]!.slice(0, 80)}' differs from '${a[i]!.slice(0, 80)}'`;
      return undefined;
    },
  },
  {
    id: 'response.call-id-echoed', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error',
    text: 'the response carries the Call-ID of the request',
    run: (req, res) => (res.get('Call-ID') === req.get('Call-ID') ? undefined : `Call-ID '${res.get('Call-ID')}' is not '${req.get('Call-ID')}'`),
  },
  {
    id: 'response.from-echoed', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error',
    text: 'the From of the response equals the From of the request, tag included',
    run: (req, res) => {
      const theirs = res.get('From');
      const ours = req.get('From');
      return theirs !== undefined && (theirs === ours || tagOf(theirs) === tagOf(ours)) ? undefined : `From '${theirs}' lost the tag ${tagOf(ours)}`;
    },
  },
  {
    id: 'response.cseq-echoed', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error',
    text: 'the CSeq of the response equals the CSeq of the request (number and method)',
    run: (req, res) => (res.get('CSeq') === req.get('CSeq') || norm(res.get('CSeq')) === norm(req.get('CSeq')) ? undefined : `CSeq '${res.get('CSeq')}' is not '${req.get('CSeq')}'`),
  },
  {
    id: 'response.to-tag', rfc: 'RFC 3261', section: '8.2.6.2', severity: 'error',
    text: 'a response other than 100 adds a To tag when the request had none, and keeps the tag when it had one',
    run: (req, res) => {
      const reqTag = tagOf(req.get('To'));
      const resTag = tagOf(res.get('To'));
      if (reqTag) return resTag === reqTag ? undefined : `To tag '${resTag}' is not the request's '${reqTag}'`;
      if (res.status === 100) return null;
      return resTag ? undefined : `${res.status} without a To tag`;
    },
  },
  {
    id: 'response.content-type', rfc: 'RFC 3261', section: '20.15', severity: 'error',
    text: 'a response with a non-empty body has a Content-Type',
    run: (_req, res) => (res.body.length === 0 ? null : res.has('Content-Type') ? undefined : `${res.body.length} body bytes without Content-Type`),
  },
  {
    id: 'response.401-www-authenticate', rfc: 'RFC 3261', section: '21.4.2', severity: 'error',
    text: 'a 401 includes a WWW-Authenticate header field',
    run: (_req, res) => (res.status !== 401 ? null : res.has('WWW-Authenticate') ? undefined : '401 without WWW-Authenticate'),
  },
  {
    id: 'response.407-proxy-authenticate', rfc: 'RFC 3261', section: '21.4.8', severity: 'error',
    text: 'a 407 includes a Proxy-Authenticate header field',
    run: (_req, res) => (res.status !== 407 ? null : res.has('Proxy-Authenticate') ? undefined : '407 without Proxy-Authenticate'),
  },
  {
    id: 'response.405-allow', rfc: 'RFC 3261', section: '21.4.6', severity: 'error',
    text: 'a 405 includes an Allow header field listing the supported methods',
    run: (_req, res) => (res.status !== 405 ? null : res.has('Allow') ? undefined : '405 without Allow'),
  },
  {
    id: 'response.415-accept', rfc: 'RFC 3261', section: '21.4.13', severity: 'warning',
    text: 'a 415 lists the acceptable formats in Accept, Accept-Encoding or Accept-Language',
    run: (_req, res) => (res.status !== 415 ? null : res.has('Accept') || res.has('Accept-Encoding') || res.has('Accept-Language') ? undefined : '415 without Accept'),
  },
  {
    id: 'response.420-unsupported', rfc: 'RFC 3261', section: '8.2.2.3', severity: 'error',
    text: 'a 420 lists the unsupported extensions in Unsupported',
    run: (_req, res) => (res.status !== 420 ? null : res.has('Unsupported') ? undefined : '420 without Unsupported'),
  },
  {
    id: 'response.423-min-expires', rfc: 'RFC 3261', section: '10.3', severity: 'error',
    text: 'a 423 includes Min-Expires',
    run: (_req, res) => (res.status !== 423 ? null : res.has('Min-Expires') ? undefined : '423 without Min-Expires'),
  },
  {
    id: 'response.register-bindings', rfc: 'RFC 3261', section: '10.3', severity: 'error',
    text: 'a 200 to a REGISTER that added bindings lists the current bindings in Contact with their expiry',
    run: (req, res) => {
      if (req.method !== 'REGISTER' || res.status !== 200 || req.getAll('Contact').length === 0 || req.isWildcardContact()) return null;
      if (/^\s*0\s*$/.test(req.get('Expires') ?? '') || /expires=0\b/.test(req.get('Contact') ?? '')) return null;
      const contacts = res.getAll('Contact');
      if (contacts.length === 0) return '200 to REGISTER without Contact';
      return contacts.some((c) => /expires=\d+/i.test(c)) || res.has('Expires') ? undefined : 'bindings listed without expiry';
    },
  },
  {
    id: 'response.dialog-contact', rfc: 'RFC 3261', section: '12.1.1', severity: 'error',
    text: 'a 2xx to INVITE (a dialog-creating response) has a Contact with exactly one SIP or SIPS URI (§8.1.1.8: not *, not empty)',
    run: (req, res) => (req.method !== 'INVITE' || res.status < 200 || res.status >= 300 ? null : dialogContactProblem(res)),
  },
  {
    id: 'response.content-length-once', rfc: 'RFC 3261', section: '7.3.1, 20.14', severity: 'error',
    text: 'a response has at most one Content-Length header field (it is not a comma-separated list, so it may not repeat)',
    run: (_req, res) => contentLengthProblem(res),
  },
  {
    id: 'response.non-invite-provisional', rfc: 'RFC 4320', section: '4.1', severity: 'warning',
    text: 'a non-INVITE request gets no provisional response but 100',
    run: (req, res) => (req.method === 'INVITE' || res.status >= 200 ? null : res.status === 100 ? undefined : `${res.status} to ${req.method}`),
  },
  {
    id: 'response.non-invite-408', rfc: 'RFC 4320', section: '4.2', severity: 'error',
    text: 'a non-INVITE request is never answered 408',
    run: (req, res) => (req.method === 'INVITE' || res.status < 200 ? null : res.status === 408 ? `408 to ${req.method}` : undefined),
  },
  { id: 'response.crlf-line-ends', rfc: 'RFC 3261', section: '7', severity: 'warning', text: CRLF_TEXT, run: (_req, res) => bareLf(res) },
];

export const REQUEST_CHECKS: RequestCheck[] = [
  { id: 'request.crlf-line-ends', rfc: 'RFC 3261', section: '7', severity: 'warning', text: CRLF_TEXT, run: (req) => bareLf(req) },
  {
    id: 'request.content-length-once', rfc: 'RFC 3261', section: '7.3.1, 20.14', severity: 'error',
    text: 'a request has at most one Content-Length header field (it is not a comma-separated list, so it may not repeat)',
    run: (req) => contentLengthProblem(req),
  },
  {
    id: 'request.mandatory-headers', rfc: 'RFC 3261', section: '8.1.1', severity: 'error',
    text: 'a request sent to us has To, From, CSeq, Call-ID, Max-Forwards and Via',
    run: (req) => {
      const missing = ['To', 'From', 'CSeq', 'Call-ID', 'Max-Forwards', 'Via'].filter((h) => !req.has(h));
      return missing.length ? `missing ${missing.join(', ')}` : undefined;
    },
  },
  {
    id: 'request.notify-event', rfc: 'RFC 6665', section: '8.2.1', severity: 'error',
    text: 'a NOTIFY has an Event and a Subscription-State header field',
    run: (req) => (req.method !== 'NOTIFY' ? null : !req.has('Event') ? 'NOTIFY without Event' : !req.has('Subscription-State') ? 'NOTIFY without Subscription-State' : undefined),
  },
  {
    id: 'request.subscription-state', rfc: 'RFC 6665', section: '8.2.3', severity: 'error',
    text: 'Subscription-State is active, pending or terminated (with expires on active/pending)',
    run: (req) => {
      if (req.method !== 'NOTIFY' || !req.has('Subscription-State')) return null;
      const v = req.get('Subscription-State')!.toLowerCase();
      if (/^terminated\b/.test(v)) return undefined;
      if (/^(active|pending)\b/.test(v)) return /expires=\d+/.test(v) ? undefined : `'${v}' without expires`;
      return `unknown state '${v}'`;
    },
  },
];

/**
 * Timing seen on the wire. §17.2.1: the INVITE server transaction "MUST generate a 100 (Trying)
 * response unless it knows that the TU will generate a provisional or final response within 200 ms".
 * Judged only when the INVITE was not retransmitted before its first answer (a lost datagram is not
 * the server's delay). The time includes the generator's own event-loop lag (see the run's health),
 * so a late answer is a warning, not an error, though the RFC says MUST.
 */
export const INVITE_ANSWER_MS = 200;
export const TIMING_CHECKS: Check[] = [
  {
    id: 'timing.invite-100-trying', rfc: 'RFC 3261', section: '17.2.1', severity: 'warning',
    text: `an INVITE gets a first response (100 Trying or any other) within ${INVITE_ANSWER_MS} ms`,
  },
];

export const ALL_CHECKS: Check[] = [...RESPONSE_CHECKS, ...REQUEST_CHECKS, ...TIMING_CHECKS].map(({ id, rfc, section, severity, text }) => ({ id, rfc, section, severity, text }));
