// Helpers of the import-sipp tests: a scenario imported by the CLI, a
// `run --listen` started in the background and waited for until its address
// answers (an OPTIONS ping, no sleep), SIPp's built-in scenarios dumped.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dgram from 'node:dgram';
import { createRequest, newBranch, newCallId, newTag, serializeMessage } from '../../engine/codec/index.js';
import { ROOT, type CliRun } from './cli.js';
import { SIPP } from './sipp.js';

/** `sipp -sd NAME` written to DIR/NAME.xml. */
export function dumpBuiltin(name: string, dir: string): string {
  const r = spawnSync(SIPP, ['-sd', name], { encoding: 'utf8' });
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, r.stdout);
  return file;
}

/** `sipstorm import-sipp XML -o YAML`. */
export function importSippFile(xml: string, yaml: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'import-sipp', xml, '-o', yaml], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

/** Resolves once a UDP OPTIONS to 127.0.0.1:port gets a response: sent every 200 ms, as a UAC retransmits, for at most 30 s. */
export async function waitForListener(port: number): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address().port;
  const req = createRequest({
    method: 'OPTIONS', uri: `sip:127.0.0.1:${port}`, from: `<sip:probe@127.0.0.1>;tag=${newTag()}`, to: `<sip:127.0.0.1:${port}>`,
    callId: newCallId('127.0.0.1'), cseq: 1, via: `SIP/2.0/UDP 127.0.0.1:${local};branch=${newBranch()}`,
  });
  const data = serializeMessage(req);
  return new Promise((resolve) => {
    let tries = 0;
    const finish = (ok: boolean) => {
      clearInterval(timer);
      sock.close();
      resolve(ok);
    };
    sock.on('message', () => finish(true));
    sock.on('error', () => undefined); // port unreachable until it binds: tried again
    const send = () => (++tries > 150 ? finish(false) : sock.send(data, port, '127.0.0.1'));
    const timer = setInterval(send, 200);
    send();
  });
}

/** Starts `sipstorm run ...args --out DIR` in the background; `done` resolves with its exit and result. */
export function startCli(args: string[], dir: string, timeoutMs = 120_000): { done: Promise<CliRun>; kill(): void } {
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args, '--out', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let out = '';
  child.stdout.on('data', (d) => ((stdout += d), (out += d)));
  child.stderr.on('data', (d) => ((stderr += d), (out += d)));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliRun>((resolve) => {
    child.on('exit', (status) => {
      clearTimeout(killer);
      const file = join(dir, 'result.json');
      resolve({ status, stdout, stderr, out, dir, result: existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined });
    });
  });
  return { done, kill: () => child.kill('SIGKILL') };
}
