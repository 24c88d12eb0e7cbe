// Message bodies the UA writes itself: the Content-Type of a scenario's body
// when the step names none, and the SDP offer/answer of a call that has none.

import { bareHost } from '../codec/index.js';

export function guessContentType(body: string): string {
  if (/^v=0/.test(body)) return 'application/sdp';
  if (/<presence\b/.test(body)) return 'application/pidf+xml';
  return 'text/plain';
}

/** A minimal SDP (RFC 4566) for `host`: one PCMU audio stream. */
export function sdp(host: string): string {
  const ip = host.includes(':') ? `IP6 ${bareHost(host)}` : `IP4 ${host}`;
  return `v=0\r\no=sipstorm 1 1 IN ${ip}\r\ns=sipstorm\r\nc=IN ${ip}\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
}
