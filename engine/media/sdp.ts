// SDP (RFC 4566) for one audio stream, and the offer/answer model (RFC 3264):
// the offer made from a scenario's media settings, the answer read back (the
// remote address, port and codec taken from it), and an answer made to an
// offer (the embedded server, a UAS). Only what G.711 calls need: one m=audio
// line, c= at session or media level, rtpmap, direction, a=rtcp (RFC 3605),
// telephone-event (RFC 4733).

import { MediaError } from './errors.js';
import { PAYLOAD_TYPES, TELEPHONE_EVENT_PT, type AudioCodec, type Direction } from './settings.js';

export class SdpError extends MediaError {}

export interface SdpAudio {
  host: string;
  port: number;
  proto: string;
  formats: number[];
  /** Payload type -> encoding name (upper case) and clock rate. */
  rtpmap: Map<number, { name: string; rate: number }>;
  direction: Direction;
  rtcpPort?: number;
}

export interface ParsedSdp {
  sessionId: string;
  version: number;
  audio?: SdpAudio;
}

/** What both sides agreed on for a stream: where to send, in which codec, which way. */
export interface Negotiated {
  codec: AudioCodec;
  payloadType: number;
  /** RFC 4733 payload type the peer takes, if it takes telephone-event. */
  dtmfPayloadType?: number;
  remoteHost: string;
  remotePort: number;
  remoteRtcpPort: number;
  /** This side sends / receives (RFC 3264 §6.1 directions combined). */
  send: boolean;
  receive: boolean;
}

export interface LocalMedia {
  host: string;
  port: number;
  rtcpPort: number;
  codecs: AudioCodec[];
  direction: Direction;
  sessionId: string;
  version: number;
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

function ipVersion(host: string): string {
  return host.includes(':') ? 'IP6' : 'IP4';
}

/** An SDP offer (RFC 3264 §5) for one audio stream, G.711 codecs in preference order and telephone-event. */
export function buildOffer(l: LocalMedia, codecs = l.codecs): string {
  const pts = codecs.map((c) => PAYLOAD_TYPES[c]);
  const lines = [
    'v=0',
    `o=sipstorm ${l.sessionId} ${l.version} IN ${ipVersion(l.host)} ${l.host}`,
    's=sipstorm',
    `c=IN ${ipVersion(l.host)} ${l.host}`,
    't=0 0',
    `m=audio ${l.port} RTP/AVP ${[...pts, TELEPHONE_EVENT_PT].join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${PAYLOAD_TYPES[c]} ${c}/8000`),
    `a=rtpmap:${TELEPHONE_EVENT_PT} telephone-event/8000`,
    `a=fmtp:${TELEPHONE_EVENT_PT} 0-16`,
    'a=ptime:20',
    `a=rtcp:${l.rtcpPort}`,
    `a=${l.direction}`,
  ];
  return lines.join('\r\n') + '\r\n';
}

/** Reads the session's first audio stream; throws SdpError saying which line is wrong. */
export function parseSdp(text: string): ParsedSdp {
  const lines = text.split(/\r?\n/);
  let sessionHost: string | undefined;
  let sessionDir: Direction = 'sendrecv';
  let sessionId = '';
  let version = 0;
  let audio: SdpAudio | undefined;
  let mediaHost: string | undefined;
  let inAudio = false;
  let sawMedia = false;
  lines.forEach((line, i) => {
    if (line === '') return;
    if (!/^[a-z]=/.test(line)) throw new SdpError('SDP_INVALID', `SDP line ${i + 1}: '${line.slice(0, 40)}' is not <type>=<value> (RFC 4566 §5)`);
    const type = line[0];
    const value = line.slice(2);
    if (type === 'o') {
      const f = value.split(' ');
      sessionId = f[1] ?? '';
      version = Number(f[2] ?? 0);
    } else if (type === 'c') {
      const f = value.split(' ');
      if (f.length < 3 || f[0] !== 'IN') throw new SdpError('SDP_INVALID', `SDP line ${i + 1}: c= needs 'IN IP4|IP6 <address>'`);
      const host = f[2]!.split('/')[0]!;
      if (sawMedia) {
        if (inAudio) mediaHost = host;
      } else sessionHost = host;
    } else if (type === 'm') {
      sawMedia = true;
      const f = value.split(' ');
      if (inAudio || audio) {
        inAudio = false;
        return;
      }
      if (f[0] !== 'audio') return;
      const port = Number(f[1]?.split('/')[0]);
      if (!Number.isInteger(port) || port < 0 || port > 65535 || f.length < 4) throw new SdpError('SDP_INVALID', `SDP line ${i + 1}: m= needs 'audio <port> <proto> <formats>'`);
      inAudio = true;
      audio = { host: '', port, proto: f[2]!, formats: f.slice(3).map(Number).filter((n) => Number.isInteger(n)), rtpmap: new Map(), direction: sessionDir };
    } else if (type === 'a') {
      const colon = value.indexOf(':');
      const name = colon < 0 ? value : value.slice(0, colon);
      const arg = colon < 0 ? '' : value.slice(colon + 1);
      if (DIRECTIONS.has(name)) {
        if (!sawMedia) sessionDir = name as Direction;
        else if (inAudio) audio!.direction = name as Direction;
      } else if (inAudio && name === 'rtpmap') {
        const m = /^(\d+) ([^/]+)\/(\d+)/.exec(arg);
        if (m) audio!.rtpmap.set(Number(m[1]), { name: m[2]!.toUpperCase(), rate: Number(m[3]) });
      } else if (inAudio && name === 'rtcp') {
        const p = Number(arg.split(' ')[0]);
        if (Number.isInteger(p) && p > 0 && p < 65536) audio!.rtcpPort = p;
      }
    }
  });
  if (audio) {
    audio.host = mediaHost ?? sessionHost ?? '';
    if (!audio.host && audio.port !== 0) throw new SdpError('SDP_INVALID', 'SDP: the audio stream has no c= line, at session or media level (RFC 4566 §5.7)');
  }
  return { sessionId, version, ...(audio ? { audio } : {}) };
}

/** The encoding a payload type stands for: its rtpmap, or the static assignment of RFC 3551. */
function encodingOf(a: SdpAudio, pt: number): string | undefined {
  const map = a.rtpmap.get(pt);
  if (map) return map.rate === 8000 ? map.name : `${map.name}/${map.rate}`;
  if (pt === 0) return 'PCMU';
  if (pt === 8) return 'PCMA';
  return undefined;
}

function describeFormats(a: SdpAudio): string {
  return a.formats.map((pt) => `${pt}${encodingOf(a, pt) ? ` (${encodingOf(a, pt)})` : ''}`).join(', ') || 'none';
}

const REVERSE: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

function combine(mine: Direction, theirs: Direction): { send: boolean; receive: boolean } {
  const t = REVERSE[theirs];
  return {
    send: (mine === 'sendrecv' || mine === 'sendonly') && (t === 'sendrecv' || t === 'sendonly'),
    receive: (mine === 'sendrecv' || mine === 'recvonly') && (t === 'sendrecv' || t === 'recvonly'),
  };
}

/**
 * The first of the remote's formats that this side accepts (for an answer read by the offerer, the answerer's
 * first: RFC 3264 §6.1), the remote address, and which way media flows. No acceptable codec, a rejected stream
 * (port 0) or no audio stream at all is an SdpError with the reason.
 */
export function negotiate(remote: ParsedSdp, codecs: AudioCodec[], myDirection: Direction): Negotiated {
  const a = remote.audio;
  if (!a) throw new SdpError('SDP_NO_AUDIO', 'the SDP has no audio stream (m=audio)');
  if (a.port === 0) throw new SdpError('SDP_REJECTED', 'the audio stream was rejected (m=audio port 0, RFC 3264 §6)');
  if (a.proto !== 'RTP/AVP') throw new SdpError('SDP_NO_CODEC', `no acceptable transport: m=audio uses ${a.proto}, sipstorm speaks RTP/AVP`);
  let chosen: { codec: AudioCodec; pt: number } | undefined;
  for (const pt of a.formats) {
    const enc = encodingOf(a, pt);
    if (enc && (codecs as string[]).includes(enc)) {
      chosen = { codec: enc as AudioCodec, pt };
      break;
    }
  }
  if (!chosen) {
    throw new SdpError('SDP_NO_CODEC', `no acceptable codec: sipstorm offers ${codecs.join(', ')}; the SDP has ${describeFormats(a)}`);
  }
  const dtmf = a.formats.find((pt) => a.rtpmap.get(pt)?.name === 'TELEPHONE-EVENT' && a.rtpmap.get(pt)?.rate === 8000);
  return {
    codec: chosen.codec, payloadType: chosen.pt, ...(dtmf !== undefined ? { dtmfPayloadType: dtmf } : {}),
    remoteHost: a.host, remotePort: a.port, remoteRtcpPort: a.rtcpPort ?? a.port + 1,
    ...combine(myDirection, a.direction),
  };
}

/** The answer to an offer (RFC 3264 §6): the codec chosen from the offer, the offerer's payload type numbers kept. */
export function answerOffer(offer: ParsedSdp, l: LocalMedia): { sdp: string; negotiated: Negotiated } {
  const n = negotiate(offer, l.codecs, l.direction);
  const a = offer.audio!;
  const dir: Direction = n.send && n.receive ? 'sendrecv' : n.send ? 'sendonly' : n.receive ? 'recvonly' : 'inactive';
  const pts = [n.payloadType, ...(n.dtmfPayloadType !== undefined ? [n.dtmfPayloadType] : [])];
  const lines = [
    'v=0',
    `o=sipstorm ${l.sessionId} ${l.version} IN ${ipVersion(l.host)} ${l.host}`,
    's=sipstorm',
    `c=IN ${ipVersion(l.host)} ${l.host}`,
    't=0 0',
    `m=audio ${l.port} ${a.proto} ${pts.join(' ')}`,
    `a=rtpmap:${n.payloadType} ${n.codec}/8000`,
    ...(n.dtmfPayloadType !== undefined ? [`a=rtpmap:${n.dtmfPayloadType} telephone-event/8000`, `a=fmtp:${n.dtmfPayloadType} 0-16`] : []),
    'a=ptime:20',
    `a=rtcp:${l.rtcpPort}`,
    `a=${dir}`,
  ];
  return { sdp: lines.join('\r\n') + '\r\n', negotiated: n };
}
