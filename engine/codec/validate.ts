// The strict check of a parsed message, used by servers (to answer 400/505)
// and by the torture suite; the load generator's hot path may skip it.
// Each rule names the RFC 3261 section it enforces.

import { SipParseError } from './errors.js';
import { SINGLE_HEADERS } from './header-names.js';
import type { SipMessage } from './message.js';
import { parseUri } from './uri.js';

export function validateMessage(msg: SipMessage): void {
  if (msg.isRequest) {
    // §8.2.1 / §21.5.20: a version we do not speak is answered 505.
    if (msg.version !== 'SIP/2.0') throw new SipParseError('SIP_PARSE_VERSION', `unsupported SIP version '${msg.version}'`);
    parseUri(msg.uri);
  }
  // §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory in requests
  // (Max-Forwards is checked for range only: RFC 2543 peers omit it).
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    if (!msg.has(name)) throw new SipParseError('SIP_PARSE_MISSING_HEADER', `missing ${name} header`);
  }
  for (const name of SINGLE_HEADERS) {
    if (msg.count(name) > 1) throw new SipParseError('SIP_PARSE_DUPLICATE_HEADER', `${name} header appears more than once`);
  }
  msg.vias();
  const from = msg.from();
  const to = msg.to();
  parseUri(from.uri);
  parseUri(to.uri);
  msg.callId();
  const cseq = msg.cseq();
  // §8.1.1.5: the CSeq method MUST match the request method.
  if (msg.isRequest && cseq.method !== msg.method) {
    throw new SipParseError('SIP_PARSE_CSEQ', `CSeq method '${cseq.method}' does not match the request method '${msg.method}'`);
  }
  msg.maxForwards();
  msg.expires();
  msg.contentLength();
  for (const c of msg.contacts()) {
    parseUri(c.uri);
    const expires = c.params.get('expires');
    if (expires !== undefined && (expires === null || !/^\d{1,10}$/.test(expires) || Number(expires) > 2 ** 32 - 1)) {
      throw new SipParseError('SIP_PARSE_RANGE', `Contact expires parameter '${expires}' is not a number in range`);
    }
  }
  if (msg.isWildcardContact() && msg.getAll('Contact').length > 1) {
    throw new SipParseError('SIP_PARSE_NAME_ADDR', "Contact '*' must be the only Contact");
  }
  for (const name of ['Route', 'Record-Route']) {
    for (const r of msg.getAll(name)) {
      if (!r.startsWith('<') && !r.startsWith('"') && !/^[^<]*</.test(r)) {
        throw new SipParseError('SIP_PARSE_NAME_ADDR', `${name}: '${r.slice(0, 40)}' must be a name-addr in <>`);
      }
    }
  }
}
