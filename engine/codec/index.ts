// The codec's public surface: everything other layers import from engine/codec.

export { SipParseError, type SipParseCode } from './errors.js';
export { canonicalHeaderName, isListHeader } from './header-names.js';
export { SipMessage, type HeaderField } from './message.js';
export { parseMessage, findHeaderEnd, findCallId, type ParseOptions } from './parse.js';
export { validateMessage } from './validate.js';
export { serializeMessage } from './serialize.js';
export { StreamFramer, type FramerLimits } from './stream.js';
export { parseUri, formatUri, bareHost, hostText, type SipUri } from './uri.js';
export { parseVia, formatVia, parseCSeq, parseNameAddr, formatNameAddr, type Via, type CSeq, type NameAddr } from './headers.js';
export { splitTopLevel, parseParams, formatParams, isToken } from './grammar.js';
export { newBranch, newTag, newCallId, createResponse, createRequest, type RequestInit } from './build.js';
export { reasonPhrase, REASONS } from './reasons.js';
export { MessageScan, HeaderId, type ScanOutcome } from './scan.js';
export { SentRequest, WireWriter, type SentShape, type SentValues } from './sent-request.js';
