// --tls-ca and --tls-insecure of `run` and `conform`: the CA file checked
// before any traffic, the client settings the start-of-run probe and the
// transports use, and the one line a target whose TLS handshake the run would
// refuse gets (exit 3, with a hint when the certificate was the reason).

import { UsageError, type ParsedArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { readInputFile, type InputFileError } from '../engine/input-file.js';
import type { ProbeResult, Target } from '../engine/transport/index.js';

export interface TlsFlags {
  caFile?: string;
  rejectUnauthorized: boolean;
}

/** The TLS flags, the CA file read once to check it is a readable certificate file within its size limit. */
export function readTlsFlags(f: ParsedArgs['flags']): TlsFlags {
  const caFile = f['tls-ca'] as string | undefined;
  if (caFile !== undefined) {
    try {
      readInputFile(String(caFile), 'certificate');
    } catch (err) {
      const e = err as InputFileError;
      throw new UsageError(`--tls-ca ${caFile}: ${e.code === 'INPUT_MISSING' ? 'cannot read the CA file (ENOENT)' : `the CA file ${e.reason ?? e.message}`}`);
    }
  }
  return { caFile, rejectUnauthorized: !f['tls-insecure'] };
}

/** A target the start-of-run probe could not use: one line, nothing sent, exit 3. */
export function unusableTargetError(target: Target, probe: Extract<ProbeResult, { up: false }>, tls: TlsFlags): Error {
  const hint = probe.fatal && tls.rejectUnauthorized && /certificate|self.signed|CERT/i.test(probe.reason) ? ' Give --tls-ca FILE to trust its CA, or --tls-insecure not to check it' : '';
  return Object.assign(new Error(`target ${target.uri}: ${probe.reason}; nothing was sent.${hint}`), { code: probe.fatal ? 'TARGET_TLS' : 'TARGET_DOWN', exitCode: EXIT.CANNOT_RUN });
}
