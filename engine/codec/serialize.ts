// Writes a SipMessage as canonical bytes: one start line, one line per header
// field with its canonical name, CRLF line ends, Content-Length always equal to
// the body, everything in one Buffer so the transport writes it in one call.

import type { SipMessage } from './message.js';

export function serializeMessage(msg: SipMessage): Buffer {
  let head = msg.isRequest ? `${msg.method} ${msg.uri} SIP/2.0\r\n` : `SIP/2.0 ${msg.status} ${msg.reason}\r\n`;
  const headers = msg.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.name === 'Content-Length') continue;
    head += h.name + ': ' + h.value + '\r\n';
  }
  head += 'Content-Length: ' + msg.body.length + '\r\n\r\n';
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headLen);
  return out;
}
