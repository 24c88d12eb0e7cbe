// A run's fixed cost: what `sipstorm run` and each load worker load before
// they start is only what every run needs. The subsystems some runs use are
// imported at their point of use (docs/architecture.md, "Loaded when used"),
// and a static import that would drag one back in fails here, naming its chain.

import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import { importChain, loadClosure } from '../support/load-closure.js';

const DIST = join(ROOT, 'dist');

/** Subsystems loaded only when used, with the few files of them a run's start may load. */
const ON_USE: { what: string; pattern: RegExp; except?: RegExp }[] = [
  { what: 'the embedded server (no --target)', pattern: /^engine\/server\//, except: /^engine\/server\/mit-kdc\.js$/ },
  { what: 'ws (ws/wss transports)', pattern: /^pkg:ws$|^engine\/transport\/ws/ },
  { what: 'NTLM/Kerberos (auth.scheme ntlm or kerberos)', pattern: /^engine\/auth\/(sipae|ntlm|kerberos)\/|^pkg:(asn1js|js-md4)$/, except: /^engine\/auth\/kerberos\/keytab\.js$/ },
  { what: 'the capture writers (--trace, --pcap)', pattern: /^engine\/capture\//, except: /^engine\/capture\/(capture-files|recorder|record|mask)\.js$/ },
  { what: 'the live endpoints (--metrics-port, --dashboard)', pattern: /^live\/|^reporters\/prometheus\.js$/, except: /^live\/endpoints\.js$/ },
  { what: 'the HTML and JUnit reporters', pattern: /^reporters\/(html|junit)/ },
  { what: 'import-sipp', pattern: /^engine\/sipp-import\// },
  { what: 'the conformance suites (conform)', pattern: /^engine\/suites\// },
  { what: 'ajv (the validators are built ahead)', pattern: /^pkg:ajv$/ },
];

function check(t: Tap, label: string, entries: string[], extra: { what: string; pattern: RegExp; except?: RegExp }[]): void {
  for (const e of entries) t.ok(existsSync(join(DIST, e)), `${e} is built`);
  const closure = loadClosure(DIST, entries);
  t.ok(closure.size > 20, `${label} loads ${closure.size} modules`);
  for (const rule of [...ON_USE, ...extra]) {
    const found = [...closure.keys()].filter((f) => rule.pattern.test(f) && !rule.except?.test(f));
    t.same(found.map((f) => importChain(closure, f)), [], `${label}: not ${rule.what}`);
  }
}
type Tap = Pick<typeof t, 'ok' | 'same'>;

t.test('sipstorm run, before its first message', async (t) => {
  check(t, 'the run command', ['cli/main.js', 'cli/commands/run.js'], [
    { what: 'the UA and its runtime (the workers play them)', pattern: /^engine\/ua\//, except: /^engine\/ua\/identity\.js$/ },
    { what: 'RTP streams (media steps, in the workers)', pattern: /^engine\/media\//, except: /^engine\/media\/(settings|errors|wav)\.js$/ },
  ]);
});

t.test('a load worker, before its first message', async (t) => {
  check(t, 'the worker', ['engine/load/worker.js'], [
    { what: 'yaml and the scenario compiler (scenarios come compiled)', pattern: /^pkg:yaml$|^engine\/scenario\/(compile|index)\.js$/ },
    { what: 'the reporters', pattern: /^reporters\// },
    { what: 'RTP streams and SDP (roles with media)', pattern: /^engine\/media\//, except: /^engine\/media\/(media-scheduler|sources|g711|wav|errors|settings)\.js$/ },
    { what: "hdr-histogram-js's index (its codec and WebAssembly build)", pattern: /^pkg:hdr-histogram-js$/ },
  ]);
});

t.test('the chain of a static import is named', async (t) => {
  const closure = loadClosure(DIST, ['cli/commands/serve.js']);
  t.ok(closure.has('engine/server/index.js'), 'serve loads the server');
  t.match(importChain(closure, 'engine/server/index.js'), /^cli\/commands\/serve\.js -> .*engine\/server\/index\.js$/);
});
