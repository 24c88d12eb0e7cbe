// Send steps as byte templates (as SIPp precompiles its messages): the header
// lines a step's request will have, in the order the message builder would put
// them (RFC 3261 §8.1.1 mandatory headers, the dialog's Route set of
// §12.2.1.1, the step's own headers replacing or adding, Content-Type, the
// User-Agent, Content-Length last), compiled once per step and worker into a
// flat list of constant Buffers, slots (the values of this request: URI, Via,
// tags, CSeq, routes) and template variables. Sending writes that list into
// the worker's one scratch Buffer and makes one Buffer of the request's size:
// no header objects, no string of the whole message. The ACK of a 2xx has a
// template of its own (writeAck). test/ua/send-template.test.ts holds the
// bytes to the header-by-header builder's (buildRequestMessage, below, which
// the digest retry still uses) for every bundled scenario's send steps.

import { canonicalHeaderName, createRequest, SentRequest, WireWriter, type SentShape, type SipMessage } from '../codec/index.js';
import { renderTemplate, type Template, type TemplateVars } from '../scenario/template.js';
import type { SendStep } from '../scenario/types.js';
import { guessContentType } from './bodies.js';

/** Methods whose requests the UA sends without a Contact. */
export const NO_CONTACT = new Set(['MESSAGE', 'PUBLISH', 'BYE', 'CANCEL', 'ACK', 'SERVICE', 'INFO', 'PRACK']);
/** Headers a step's `headers` replace rather than add to. */
export const SET_HEADERS = ['contact', 'to', 'from', 'expires', 'max-forwards', 'call-id', 'm', 'event', 'o'];

/** The values of one request that are not the step's: what the UAC computes per send. */
export interface RequestParts {
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  via: string;
  contact: string | undefined;
  /** Route header values (a request within a dialog with a route set). */
  routes: string[];
}

const URI = 0;
const VIA = 1;
const FROM = 2;
const TO = 3;
const CALL_ID = 4;
const CSEQ = 5;
const CONTACT = 6;
const ROUTES = 7;
const CONTENT_TYPE = 8;
type Slot = number;

/** A line's value: a slot, or the step's template. */
type Source = Slot | Template;
interface Line {
  name: string;
  src: Source;
}

/** Constant bytes, a slot (number), or a template variable (its name). */
type Segment = Buffer | Slot | string;

export class SendTemplate {
  private constructor(
    private readonly segs: Segment[],
    private readonly method: string,
    private readonly bodyTemplate: Template | undefined,
    /** The body as constant Buffers and variable names, written without a string of the whole body. */
    private readonly bodySegs: (Buffer | string)[] | undefined,
    private readonly contentType: string | undefined,
    /** Which headers its requests have, and which hold the UA's values: read without a header list (codec SentShape). */
    private readonly shape: SentShape,
  ) {}

  /**
   * The lines of the step's request, in the builder's order: the mandatory headers (§8.1.1), Contact unless the
   * method takes none, the route set within a dialog or a default Expires for REGISTER outside one, then each step
   * header (those in SET_HEADERS replacing the line of that name where it stood), Content-Type with a body, User-Agent.
   */
  static compile(step: SendStep, inDialog: boolean, userAgent = true): SendTemplate {
    const lines: Line[] = [
      { name: 'Via', src: VIA },
      { name: 'Max-Forwards', src: ['70'] },
      { name: 'From', src: FROM },
      { name: 'To', src: TO },
      { name: 'Call-ID', src: CALL_ID },
      { name: 'CSeq', src: CSEQ },
    ];
    if (!NO_CONTACT.has(step.method)) lines.push({ name: 'Contact', src: CONTACT });
    if (inDialog) lines.push({ name: 'Route', src: ROUTES });
    else if (step.method === 'REGISTER' && !step.headers.some(([n]) => n.toLowerCase() === 'expires')) lines.push({ name: 'Expires', src: ['3600'] });
    for (const [name, t] of step.headers) {
      const canon = canonicalHeaderName(name);
      if (SET_HEADERS.includes(name.toLowerCase())) setLine(lines, canon, t);
      else lines.push({ name: canon, src: t });
    }
    if (step.body !== undefined) setLine(lines, 'Content-Type', CONTENT_TYPE);
    if (userAgent) lines.push({ name: 'User-Agent', src: ['sipstorm'] });

    const segs: Segment[] = [];
    let constant = `${step.method} `;
    const flush = () => {
      if (constant) segs.push(Buffer.from(constant, 'utf8'));
      constant = '';
    };
    const slot = (s: Slot) => {
      flush();
      segs.push(s);
    };
    slot(URI);
    constant += ' SIP/2.0\r\n';
    for (const line of lines) {
      // serializeMessage writes its own Content-Length, never one of the message's.
      if (line.name === 'Content-Length') continue;
      if (line.src === ROUTES) {
        slot(ROUTES);
        continue;
      }
      constant += `${line.name}: `;
      if (typeof line.src === 'number') {
        slot(line.src);
        if (line.src === CSEQ) constant += ` ${step.method}`;
      } else {
        for (const p of line.src) {
          if (typeof p === 'string') constant += p;
          else {
            flush();
            segs.push(p.v);
          }
        }
      }
      constant += '\r\n';
    }
    constant += 'Content-Length: ';
    flush();
    const written = lines.filter((l) => l.name !== 'Content-Length');
    const first = new Set<string>();
    const only = new Set<string>();
    for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
      const of = written.filter((l) => l.name === name);
      if (typeof of[0]?.src !== 'number') continue;
      first.add(name);
      if (of.length === 1) only.add(name);
    }
    const shape: SentShape = { names: new Set(written.map((l) => l.name)), first, only };
    const bodySegs = step.body?.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p.v));
    return new SendTemplate(segs, step.method, step.body, bodySegs, step.contentType, shape);
  }

  /**
   * Writes the request and returns it. `parts` are this request's values; `vars` fills the step's templates.
   * The body is rendered first (its length and, without a step Content-Type, its type go in the head).
   */
  write(w: WireWriter, parts: RequestParts, vars: TemplateVars): SentRequest {
    // The body first, into its own scratch: its length goes in the head. As text only when its type is guessed from it.
    const bodySegs = this.bodySegs;
    const bodyText = this.bodyTemplate && this.contentType === undefined ? renderTemplate(this.bodyTemplate, vars) : undefined;
    if (bodySegs) {
      bodyScratch.reset();
      if (bodyText !== undefined) bodyScratch.text(bodyText);
      else {
        for (let i = 0; i < bodySegs.length; i++) {
          const p = bodySegs[i]!;
          if (typeof p === 'string') bodyScratch.text(vars.lookup(p) ?? '');
          else bodyScratch.bytes(p);
        }
      }
    }
    w.reset();
    const segs = this.segs;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      if (typeof s === 'string') w.text(vars.lookup(s) ?? '');
      else if (typeof s === 'number') {
        switch (s) {
          case URI: w.text(parts.uri); break;
          case VIA: w.text(parts.via); break;
          case FROM: w.text(parts.from); break;
          case TO: w.text(parts.to); break;
          case CALL_ID: w.text(parts.callId); break;
          case CSEQ: w.int(parts.cseq); break;
          case CONTACT: w.text(parts.contact ?? ''); break;
          case CONTENT_TYPE: w.text(this.contentType ?? guessContentType(bodyText!)); break;
          case ROUTES:
            for (const r of parts.routes) {
              w.bytes(ROUTE);
              w.text(r);
              w.bytes(CRLF);
            }
            break;
        }
      } else w.bytes(s);
    }
    w.int(bodySegs ? bodyScratch.length : 0);
    w.bytes(END_OF_HEAD);
    const bodyStart = w.length;
    if (bodySegs) w.append(bodyScratch);
    const wire = w.finish();
    return new SentRequest(wire, this.method, parts.uri, branchOf(parts.via), parts.cseq, parts, this.shape, bodySegs ? bodyStart : -1);
  }
}

const ROUTE = Buffer.from('Route: ');
const CRLF = Buffer.from('\r\n');
const END_OF_HEAD = Buffer.from('\r\n\r\n');

/** SipMessage.set: every line of that name goes, the new one stands where the first stood (else last). */
function setLine(lines: Line[], name: string, src: Source): void {
  const i = lines.findIndex((l) => l.name === name);
  const kept = lines.filter((l) => l.name !== name);
  kept.splice(i < 0 ? kept.length : i, 0, { name, src });
  lines.length = 0;
  lines.push(...kept);
}

/** The branch of a Via we wrote (WorkerRuntime.via: '...;branch=<b>;rport...'). */
function branchOf(via: string): string {
  const at = via.indexOf(';branch=');
  if (at < 0) return '';
  const start = at + 8;
  const end = via.indexOf(';', start);
  return end < 0 ? via.slice(start) : via.slice(start, end);
}

/**
 * The same request as a message object, built header by header (the digest retry changes it before sending):
 * what the template is held to, byte for byte (test/ua/send-template.test.ts).
 */
export function buildRequestMessage(step: SendStep, inDialog: boolean, p: RequestParts, vars: TemplateVars): SipMessage {
  const req = createRequest({ method: step.method, uri: p.uri, from: p.from, to: p.to, callId: p.callId, cseq: p.cseq, via: p.via, contact: p.contact });
  for (const r of p.routes) req.add('Route', r);
  if (!inDialog && step.method === 'REGISTER' && !step.headers.some(([n]) => n.toLowerCase() === 'expires')) req.add('Expires', '3600');
  for (const [name, t] of step.headers) {
    const value = renderTemplate(t, vars);
    if (SET_HEADERS.includes(name.toLowerCase())) req.set(name, value);
    else req.add(name, value);
  }
  if (step.body !== undefined) {
    const body = renderTemplate(step.body, vars);
    req.body = Buffer.from(body, 'utf8');
    req.set('Content-Type', step.contentType ?? guessContentType(body));
  }
  req.add('User-Agent', 'sipstorm');
  return req;
}

/** The ACK of a 2xx (§13.2.2.4) as uac-invite.ts sends it: the dialog's mandatory headers and routes, no User-Agent, no body. */
const ACK_STEP = { kind: 'send', name: 'ACK', method: 'ACK', headers: [] } as unknown as SendStep;
let ackTemplate: SendTemplate | undefined;

/** The bytes of the ACK of a 2xx within the dialog: what serializeMessage(inDialogRequest(d, 'ACK', via, undefined, seq)) gives. */
export function writeAck(parts: RequestParts): Buffer {
  return (ackTemplate ??= SendTemplate.compile(ACK_STEP, true, false)).write(writer, parts, NO_VARS).wire!;
}

const NO_VARS: TemplateVars = { lookup: () => undefined };

/** The templates of each step, made at its first send in this worker: out of a dialog [0] and within one [1]. */
const compiled = new WeakMap<SendStep, [SendTemplate | undefined, SendTemplate | undefined]>();
/** One writer per thread (each worker thread loads this module afresh); a request is written synchronously. */
const writer = new WireWriter();
const bodyScratch = new WireWriter();

export function writeRequest(step: SendStep, inDialog: boolean, parts: RequestParts, vars: TemplateVars): SentRequest {
  let pair = compiled.get(step);
  if (!pair) compiled.set(step, (pair = [undefined, undefined]));
  const i = inDialog ? 1 : 0;
  const t = (pair[i] ??= SendTemplate.compile(step, inDialog));
  return t.write(writer, parts, vars);
}
