// What the suites change in a message before it goes out: the top Via of a
// torture message names this tester (RFC 3261 §18.2.2 sends the answer to
// the sent-by, and the fixtures name hosts like 192.0.2.2 that are not us);
// with --domain, the hosts of its Request-URI and To become that domain; a
// Contact of ${local} in a template names the transport (§19.1.1). Every
// other byte stays as written (test/conformance checks that).

/**
 * `<...@${local}>` in Contact lines becomes `<...@${local}${uri.transport}>`: a contact reached over TCP or TLS
 * says so (RFC 3261 §19.1.1). Header patterns get the same (they match what a server echoes of those Contacts).
 */
export function withContactTransport(text: string): string {
  return text.includes('${local}>') ? text.replace(/^(?:Contact|m)[ \t]*:.*$/gim, (line) => line.replace(/@\$\{local\}>/g, '@${local}${uri.transport}>')) : text;
}

/** Puts `transport` (UDP by default) and `local` (with rport) as the transport and sent-by of the first Via, folded lines and compact form included. */
export function rewriteTopVia(msg: Buffer, local: string, transport = 'UDP', extraParams = ''): Buffer {
  const text = msg.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  if (/^SIP\//.test(head)) return msg; // a response: sent as it is
  const lws = String.raw`[ \t]*(?:\r\n[ \t]+)?`;
  const re = new RegExp(String.raw`(\r\n(?:Via|v)${lws}:${lws}SIP${lws}/${lws}2\.0${lws}/${lws})([A-Za-z]+)(${lws})([^;,\s]+)([^,\r\n]*)`, 'i');
  const m = re.exec(head);
  if (!m) return msg;
  let params = /;\s*rport/i.test(m[5]!) ? m[5]! : `;rport${m[5]}`;
  if (extraParams && !params.includes(extraParams)) params += extraParams;
  const out = head.slice(0, m.index) + m[1] + transport + m[3] + local + params + head.slice(m.index + m[0].length) + text.slice(head.length);
  return Buffer.from(out, 'latin1');
}

/**
 * `--domain`: the host (and port) of a torture request's Request-URI and of each To header's URI become `domain`;
 * every other byte stays (a test checks that). URIs of other schemes (unkscm, unksm2 test those) are left alone,
 * and so is a response.
 */
export function rewriteDomain(msg: Buffer, domain: string): Buffer {
  const text = msg.toString('latin1');
  if (/^SIP\//.test(text)) return msg;
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  const headEnd = crlf < 0 ? (lf < 0 ? text.length : lf) : lf < 0 ? crlf : Math.min(crlf, lf);
  const head = text.slice(0, headEnd);
  const edits: [number, number][] = []; // spans of host[:port] to replace, in order
  // The Request-URI: the second token of the first line, perhaps between <> (ltgtruri.dat).
  const line = /^[^ \r\n]+ +<?/.exec(head);
  if (line) {
    const span = hostSpan(head, line[0].length, /[ \r\n>]/);
    if (span) edits.push(span);
  }
  // Each To (or t) header, folded lines included: its URI is after the first '<', or is the value itself.
  const header = /\r?\n(?:To|t)[ \t]*(?:\r?\n[ \t]+)?:/gi;
  for (let m = header.exec(head); m; m = header.exec(head)) {
    let end = m.index + m[0].length;
    while (end < head.length && !(head[end] === '\n' && head[end + 1] !== ' ' && head[end + 1] !== '\t')) end++;
    const value = head.slice(m.index + m[0].length, end);
    const lt = value.indexOf('<');
    let at = m.index + m[0].length + (lt >= 0 ? lt + 1 : 0);
    while (at < end && /[ \t\r\n]/.test(head[at]!)) at++;
    const span = hostSpan(head, at, lt >= 0 ? /[>\r\n]/ : /[ \t\r\n]/, end);
    if (span) edits.push(span);
  }
  if (edits.length === 0) return msg;
  let out = '';
  let last = 0;
  for (const [from, to] of edits.sort((a, b) => a[0] - b[0])) {
    out += text.slice(last, from) + domain;
    last = to;
  }
  return Buffer.from(out + text.slice(last), 'latin1');
}

/**
 * The span of host[:port] of the SIP URI that starts at `start`, whose text ends at `stop` (or `limit`): after the
 * first '@' when there is one (a user part may hold ';', '?' and ',', never a bare '@'), up to ':', ';', '?' or the end.
 */
function hostSpan(text: string, start: number, stop: RegExp, limit = text.length): [number, number] | undefined {
  const scheme = /^sips?:/i.exec(text.slice(start, start + 5));
  if (!scheme) return undefined;
  let end = start + scheme[0].length;
  while (end < limit && !stop.test(text[end]!)) end++;
  const uri = text.slice(start + scheme[0].length, end);
  const at = uri.indexOf('@');
  const hostStart = start + scheme[0].length + (at >= 0 ? at + 1 : 0);
  let i = hostStart;
  if (text[i] === '[') {
    const close = text.indexOf(']', i);
    if (close < 0 || close >= end) return undefined;
    i = close + 1;
  } else {
    while (i < end && !/[:;?>\s]/.test(text[i]!)) i++;
  }
  if (text[i] === ':') {
    i++;
    while (i < end && text[i]! >= '0' && text[i]! <= '9') i++;
  }
  return i > hostStart ? [hostStart, i] : undefined;
}
