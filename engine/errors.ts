// Base error class for sipstorm. Every error carries a stable `code` string:
// codes survive worker_threads structured cloning where classes do not, and
// reporters and exit-code logic switch on codes, never on messages.

export class SipstormError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Any value thrown across a worker boundary comes back as { code, message }. */
export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return 'ERR_UNKNOWN';
}
