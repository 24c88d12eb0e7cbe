// The variables of raw message text (the keywords of SIPp's messages): names
// the compiler knows as built in. The UA fills them in (engine/ua/raw-text.ts):
// ${len} the body's length in bytes, ${last.NAME} the NAME header lines of the
// last message received (and, when it has none, the rest of that line goes),
// ${routes} a Route header from the route set kept by an `rrs` step (or no
// line), ${next.url} that message's Contact URI, ${remote.tagParam} ';tag='
// and the peer's tag of the last message received, ${call.number} the
// instance's number in its worker, ${pid} the process id, ${transport} the
// transport as written in a Via (UDP, TCP, TLS), ${local.ipVersion} 4 or 6,
// ${authentication} an Authorization (or Proxy-Authorization) header line
// answering the 401/407 last received, with the UA's user and password.

export const RAW_VARIABLES = ['authentication', 'len', 'routes', 'next.url', 'remote.tagParam', 'call.number', 'pid', 'transport', 'local.ipVersion'];

/** ${last.Via}, ${last.Call-ID}, ...: any header name after 'last.'. */
export function isLastHeaderVariable(name: string): boolean {
  return /^last\.[A-Za-z0-9!%*_+`'~.-]+$/.test(name);
}
