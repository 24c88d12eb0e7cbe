// Bad live-endpoint flags are one line and a documented exit code: a bad
// port, host or linger is bad input (2) before anything starts; a port
// already taken is "cannot run" (3), said before any traffic, and the run's
// embedded server is closed (the process exits).

import t from 'tap';
import net from 'node:net';
import { runCli } from '../support/cli.js';

const bad: [string[], string][] = [
  [['--metrics-port', '70000'], "sipstorm: --metrics-port must be a port from 0 to 65535, got '70000'"],
  [['--metrics-port', 'nine'], "sipstorm: --metrics-port must be a number, got 'nine'"],
  [['--dashboard', '-1'], "sipstorm: --dashboard must be at least 0, got '-1'"],
  [['--metrics-port', '0', '--metrics-host', 'example.com'], "sipstorm: --metrics-host must be an IPv4 or IPv6 address, got 'example.com'"],
  [['--metrics-port', '0', '--metrics-linger', 'a while'], "sipstorm: --metrics-linger must be a time like 15s or 0s, got 'a while'"],
  [['--metrics-linger', '10s'], 'sipstorm: --metrics-host and --metrics-linger need --metrics-port or --dashboard'],
];

for (const [flags, message] of bad) {
  t.test(flags.join(' '), async (t) => {
    const r = await runCli(['run', 'scenarios/options.yaml', '--total', '1', '--no-reports', ...flags], { outDir: false });
    t.equal(r.status, 2, 'bad input');
    t.equal(r.stderr.trim(), message);
    t.notMatch(r.stdout, /->/, 'nothing started');
  });
}

t.test('a metrics port already taken', async (t) => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => taken.close());
  const port = (taken.address() as net.AddressInfo).port;
  const r = await runCli(['run', 'scenarios/options.yaml', '--total', '1', '--no-reports', '--metrics-port', String(port)], { outDir: false });
  t.equal(r.status, 3, 'cannot run');
  t.equal(r.stderr.trim(), `sipstorm: --metrics-port: cannot listen on 127.0.0.1:${port}: address in use`);
  t.notMatch(r.stdout, /PASSED|FAILED/, 'no run');
});
