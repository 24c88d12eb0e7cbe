// Raw message text after its variables are filled in (SIPp's rules for its
// keywords): a ${last.NAME} or ${routes} with nothing to put there takes the
// rest of its line with it (the line goes when nothing else is left on it),
// and ${len} becomes the length in bytes of the body, counted once the rest
// of the text is final.

/** Marks that lookup leaves in raw text; NUL never occurs in SIP text a scenario can hold. */
export const LEN_MARK = '\u0000len\u0000';
export const DROP_LINE = '\u0000drop\u0000';
/** ${authentication}: replaced by the message-steps layer, which knows the challenge, before finishRawText. */
export const AUTH_MARK = '\u0000auth\u0000';

export function finishRawText(text: string): string {
  if (!text.includes('\u0000')) return text;
  let out = text.includes(DROP_LINE)
    ? text.replace(/([^\r\n]*)\u0000drop\u0000[^\r\n]*(\r\n)?/g, (_all, before: string, eol: string | undefined) => (before.trim() === '' ? '' : `${before}${eol ?? ''}`))
    : text;
  if (out.includes(LEN_MARK)) {
    const sep = out.indexOf('\r\n\r\n');
    const body = sep < 0 ? '' : out.slice(sep + 4);
    out = out.split(LEN_MARK).join(String(Buffer.byteLength(body, 'utf8')));
  }
  return out;
}
