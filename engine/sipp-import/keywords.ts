// SIPp's message keywords ([service], [last_Via:], [$1], ...) as sipstorm
// template variables (docs: README "Coming from SIPp"). A keyword with no
// equal is reported with its line, never dropped or passed on as text.

/** Variables a converted scenario gets defaults for in `vars` (SIPp's -s and -mp defaults). */
export const KEYWORD_DEFAULTS: Record<string, string> = { service: 'service', media_port: '6000' };

const FIXED: Record<string, string> = {
  service: '${service}',
  remote_ip: '${target.host}',
  remote_port: '${target.port}',
  local_ip: '${local.host}',
  local_port: '${local.port}',
  local_ip_type: '${local.ipVersion}',
  media_ip: '${local.host}',
  media_ip_type: '${local.ipVersion}',
  media_port: '${media_port}',
  transport: '${transport}',
  branch: '${branch}',
  call_id: '${call.id}',
  call_number: '${call.number}',
  cseq: '${var.cseq}',
  pid: '${pid}',
  len: '${len}',
  peer_tag_param: '${remote.tagParam}',
  routes: '${routes}',
  next_url: '${next.url}',
};

/** A SIPp variable name as a sipstorm one: [$1] is ${var.1}, [$name] ${var.name} (never a built-in's name). */
export function sippVar(name: string): string {
  return `var.${name}`;
}

export interface KeywordUse {
  /** The text with every keyword replaced. */
  text: string;
  /** Keywords that have no sipstorm equal, as written. */
  unknown: string[];
  /** Whether [cseq] occurs (the importer counts requests for it). */
  cseq: boolean;
  /** [fieldN] columns used (SIPp's -inf CSV). */
  fields: string[];
  /** [authentication username=U password=P]: the credentials it names (the UA's own when not given: -au, -ap). */
  auth?: { user?: string; password?: string };
}

/** Replaces SIPp's keywords in message text with sipstorm variables. */
export function convertKeywords(text: string): KeywordUse {
  const unknown: string[] = [];
  const fields: string[] = [];
  let cseq = false;
  let auth: KeywordUse['auth'];
  const out = text.replace(/\[([^\[\]\r\n]+)\]/g, (whole, kw: string) => {
    const k = kw.trim();
    if (Object.hasOwn(FIXED, k)) {
      if (k === 'cseq') cseq = true;
      return FIXED[k]!;
    }
    let m = /^last_([A-Za-z0-9!%*_+`'~.-]+):?$/.exec(k);
    if (m && !/^(Request_URI|cseq_number|message)$/i.test(m[1]!)) return `\${last.${m[1]}}`;
    m = /^authentication(?:\s+username=(\S+))?(?:\s+password=(\S+))?$/.exec(k);
    if (m) {
      auth = { user: m[1], password: m[2] };
      return '${authentication}';
    }
    m = /^\$([A-Za-z0-9_.-]+)$/.exec(k);
    if (m) return `\${${sippVar(m[1]!)}}`;
    m = /^field([0-9]+)$/.exec(k);
    if (m) {
      fields.push(`field${m[1]}`);
      return `\${field${m[1]}}`;
    }
    // A bracket that is no keyword (an IPv6 literal, text in a body) stays as written; anything else that starts
    // as SIPp's keywords do (a lower-case letter, $ or _) is one this table lacks, offsets like [cseq+1] included.
    if (!/^[a-z_$]/.test(k) || /^[0-9a-fA-F:.]+$/.test(k)) return whole;
    unknown.push(whole);
    return whole;
  });
  return { text: out, unknown, cseq, fields: fields.sort(), ...(auth ? { auth } : {}) };
}
