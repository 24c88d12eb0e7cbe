// Calls whose two sides use different transports (a WebSocket caller and a
// UDP callee, or the other way), one sipstorm run per side: the callee run
// (test/fixtures/ws/callee.yaml) registers its users and waits; the caller run
// (caller.yaml) starts once the server itself counts every callee registered
// (an event, polled: no timing window), and each caller{n} calls user{n}.

import { runCli, type CliRun } from './cli.js';

export interface CrossCalls {
  callee: CliRun;
  caller: CliRun;
  /** Whether the server counted every callee registered before the callers started. */
  registered: boolean;
}

export async function crossCalls(opts: { calleeTarget: string[]; callerTarget: string[]; registered: () => number; users: number }): Promise<CrossCalls> {
  const n = String(opts.users);
  const common = ['--users', n, '--total', n, '--rate', n, '--workers', '1'];
  const calleeRun = runCli(['run', 'test/fixtures/ws/callee.yaml', ...opts.calleeTarget, ...common], { timeoutMs: 120_000 });
  let registered = false;
  let settled = false;
  void calleeRun.then(() => (settled = true));
  // Bounded by the callee run itself: it gives up waiting for INVITEs after 80 s.
  while (!settled) {
    if (opts.registered() >= opts.users) {
      registered = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const caller = registered
    ? await runCli(['run', 'test/fixtures/ws/caller.yaml', ...opts.callerTarget, ...common], { timeoutMs: 120_000 })
    : ({ status: null, stdout: '', stderr: 'not started: the callees never all registered', out: '', dir: '' } as CliRun);
  return { callee: await calleeRun, caller, registered };
}
