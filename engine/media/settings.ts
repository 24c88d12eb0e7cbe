// A scenario's `media:` setting as compiled (plain data, shared by workers):
// what each call offers and plays. The scenario layer fills it in; the UA and
// the embedded server read it.

export type AudioCodec = 'PCMU' | 'PCMA';
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type MediaSource =
  | { type: 'tone'; hz: number }
  | { type: 'silence' }
  /** An 8 kHz mono 16-bit WAV file (absolute path), played in a loop. */
  | { type: 'wav'; file: string };

export interface MediaSettings {
  /** Offered in this order of preference (RFC 3264 §5.1). */
  codecs: AudioCodec[];
  source: MediaSource;
  direction: Direction;
  /** Stop sending after this long (the call goes on); absent: until the call ends. */
  durationMs?: number;
  /** A stream that receives no packet this long after the answer is one-way audio. */
  oneWayAfterMs: number;
  /** RTP ports to take from (even ports, RTCP on the next odd one); absent: any free port. */
  ports?: [number, number];
}

export const DEFAULT_MEDIA: MediaSettings = { codecs: ['PCMU', 'PCMA'], source: { type: 'tone', hz: 400 }, direction: 'sendrecv', oneWayAfterMs: 2000 };

/** Static payload types of RFC 3551 §6 and the dynamic one offered for RFC 4733 telephone-event. */
export const PAYLOAD_TYPES: Record<AudioCodec, number> = { PCMU: 0, PCMA: 8 };
export const TELEPHONE_EVENT_PT = 101;
