// Secrets never leave the engine: digest responses, cnonces, rspauth values
// (RFC 7616 §3.5: derived from the password like the response), the
// gssapi-data of NTLM and Kerberos logins ([MS-SIPAE]: an NTLMv2 response
// allows the same offline dictionary attack as a digest response) and known
// passwords are masked in every text that reaches a report or a log.

export function redact(text: string, secrets: string[]): string {
  let out = text.replace(/\b(response|cnonce|rspauth|gssapi-data)\s*=\s*("[^"]*"|[^,\s]+)/gi, '$1="***"');
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('***');
  return out;
}
