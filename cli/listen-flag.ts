// `run --listen HOST:PORT`: sipstorm as the called side for callers that are
// not sipstorm (SIPp's uas mode). The flag's address, and the check that
// every scenario can be played that way: one role whose first step waits
// for a request (each such request from a caller starts an instance).

import { isIP } from 'node:net';
import { UsageError, type FlagSpec, type ParsedArgs } from './args.js';
import type { CompiledScenario } from '../engine/scenario/index.js';

export const listenFlagSpec: FlagSpec = {
  name: 'listen', type: 'string', value: 'HOST:PORT',
  help: "serve callers at this address (SIPp's -sn uas): each new request of the scenario's first step (recv) starts an instance; one worker; --total N serves N",
};

export function parseListenFlag(f: ParsedArgs['flags']): { host: string; port: number } | undefined {
  if (f.listen === undefined) return undefined;
  const text = String(f.listen);
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !isIP(host) || !(port > 0 && port < 65536)) throw new UsageError(`--listen must be an address and port like 127.0.0.1:5060 or [::1]:5060, got '${text}'`);
  if (f.shard !== undefined) throw new UsageError('--listen serves callers on one socket: it cannot be sharded (--shard)');
  if (f['socket-per-ua'] !== undefined) throw new UsageError('--listen serves callers on one socket: not with --socket-per-ua');
  return { host, port };
}

export function checkListenScenarios(scenarios: CompiledScenario[]): void {
  for (const s of scenarios) {
    const first = s.roles[0]?.steps.find((st) => st.kind !== 'label');
    if (s.roles.length !== 1 || first?.kind !== 'recv') {
      throw new UsageError(`${s.file}: --listen plays a scenario of one role whose first step is 'recv' (it waits for the caller's request)`);
    }
  }
}
