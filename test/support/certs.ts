// Certificates for TLS tests: a self-signed certificate for 127.0.0.1 made by
// openssl (Debian package openssl) in a folder the test owns.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version']).status === 0;
}

/** A self-signed certificate for 127.0.0.1 (subjectAltName IP), good for a day: it is its own CA (--tls-ca). */
export function selfSignedCert(dir: string, name = 'server'): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const r = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl could not make a certificate: ${r.stderr}`);
  return { certFile, keyFile };
}
