// Errors of the media layer: bad SDP, no codec both sides accept, an unusable
// WAV file, no free RTP port. Each has a stable code (engine/errors.ts).

import { SipstormError } from '../errors.js';

export class MediaError extends SipstormError {}
