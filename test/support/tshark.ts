// tshark (Debian package tshark) for tests that read what sipstorm captured:
// frames matching a display filter, counted, with the checksums checked.

import { spawnSync } from 'node:child_process';

/** Checksums are checked (tshark leaves them unverified by default): a wrong one is an expert error. */
const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE'];

export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** The frames of `file` that match `filter`, one summary line each; throws when tshark cannot read the file. */
export function tsharkFrames(file: string, filter: string): string[] {
  const r = spawnSync('tshark', ['-n', ...CHECKSUMS, '-r', file, '-Y', filter], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark -r ${file} -Y '${filter}' failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** One field of every frame matching `filter`. */
export function tsharkField(file: string, filter: string, field: string): string[] {
  const r = spawnSync('tshark', ['-n', ...CHECKSUMS, '-r', file, '-Y', filter, '-T', 'fields', '-e', field], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`tshark -r ${file} failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/**
 * What must never be in a capture sipstorm wrote: a malformed packet, or any expert note of severity warning or
 * error (a bad checksum, a TCP segment out of order, a SIP message that does not dissect).
 */
export const BROKEN = '_ws.malformed || _ws.expert.severity >= 6291456';
