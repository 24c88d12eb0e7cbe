// The codec's one error class. Every failure to parse or validate bytes from
// the wire is a SipParseError with a stable code and a message saying what is
// wrong and where; nothing else is ever thrown for any input.

import { SipstormError } from '../errors.js';

export type SipParseCode =
  | 'SIP_PARSE_EMPTY'
  | 'SIP_PARSE_START_LINE'
  | 'SIP_PARSE_VERSION'
  | 'SIP_PARSE_HEADER'
  | 'SIP_PARSE_TRUNCATED'
  | 'SIP_PARSE_CONTENT_LENGTH'
  | 'SIP_PARSE_URI'
  | 'SIP_PARSE_VIA'
  | 'SIP_PARSE_CSEQ'
  | 'SIP_PARSE_NAME_ADDR'
  | 'SIP_PARSE_MISSING_HEADER'
  | 'SIP_PARSE_DUPLICATE_HEADER'
  | 'SIP_PARSE_RANGE'
  | 'SIP_PARSE_STATUS'
  | 'SIP_FRAME_HEADER_TOO_LARGE'
  | 'SIP_FRAME_BODY_TOO_LARGE';

export class SipParseError extends SipstormError {
  declare readonly code: SipParseCode;
  constructor(code: SipParseCode, message: string) {
    super(code, message);
  }
}
