// The media layer: SDP offer/answer, G.711, RTP/RTCP streams on one media
// clock per worker, DTMF events, the E-model. Knows no SIP.

export * from './errors.js';
export * from './settings.js';
export * from './g711.js';
export * from './wav.js';
export * from './sdp.js';
export * from './rtp-stream.js';
export * from './rtcp.js';
export * from './dtmf.js';
export * from './emodel.js';
export * from './sources.js';
export * from './media-scheduler.js';
export * from './media-stream.js';
