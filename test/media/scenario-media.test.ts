// The `media:` setting and the dtmf step in the scenario language: defaults,
// a role's own setting over the scenario's, and each bad value refused with
// its file:line:col before any traffic (a missing or unusable WAV, a port
// range upside down, a codec sipstorm does not speak, dtmf without media).

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toneSamples, writeWav } from '../../engine/media/index.js';
import { compileScenarioText, ScenarioError } from '../../engine/scenario/index.js';

const dir = mkdtempSync(join(tmpdir(), 'scenario-media-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'call.yaml');
const CALL = "steps:\n  - send: INVITE\n    to: 'sip:echo@${target.host}'\n";

function errorOf(yaml: string): string {
  try {
    compileScenarioText(yaml, file);
  } catch (err) {
    if (err instanceof ScenarioError || (err as Error).name === 'ScenarioErrors') return (err as Error).message;
    throw err;
  }
  return 'compiled';
}

t.test('defaults, a WAV source, and a role over the scenario', async (t) => {
  writeFileSync(join(dir, 'ok.wav'), writeWav(toneSamples(440, 1600)));
  const s = compileScenarioText(`media:\n  source: wav\n  file: ok.wav\n  ports: 20000-20099\n  duration: 2s\n${CALL}  - dtmf: '12#'\n`, file);
  const m = s.roles[0]!.media!;
  t.same(m.codecs, ['PCMU', 'PCMA']);
  t.same(m.source, { type: 'wav', file: join(dir, 'ok.wav') });
  t.same(m.ports, [20000, 20099]);
  t.equal(m.durationMs, 2000);
  t.equal(m.oneWayAfterMs, 2000);
  t.match(s.roles[0]!.steps[1], { kind: 'dtmf', digits: '12#', name: 'dtmf' });
  const roles = compileScenarioText("media: { codecs: [PCMA] }\nroles:\n  a:\n    media: { source: silence }\n    steps:\n      - send: OPTIONS\n  b:\n    steps:\n      - send: OPTIONS\n", file);
  t.same(roles.roles[0]!.media!.source, { type: 'silence' }, "a role's own media");
  t.same(roles.roles[1]!.media!.codecs, ['PCMA'], "the scenario's media for a role without");
  t.equal(compileScenarioText(CALL, file).roles[0]!.media, undefined, 'no media: no stream');
});

t.test('bad media settings: one line each, at file:line:col', async (t) => {
  t.equal(errorOf(`media:\n  source: wav\n  file: none.wav\n${CALL}`), `${file}:3:9: WAV file 'none.wav' not found next to the scenario`);
  writeFileSync(join(dir, 'stereo.wav'), Buffer.concat([writeWav(toneSamples(440, 1600)).subarray(0, 22), Buffer.from([2, 0]), writeWav(toneSamples(440, 1600)).subarray(24)]));
  t.match(errorOf(`media:\n  file: stereo.wav\n${CALL}`), /call\.yaml:2:9: stereo\.wav: needs 8000 Hz mono 16-bit PCM, has 8000 Hz, 2 channel\(s\)/);
  t.match(errorOf(`media:\n  ports: 30000-20000\n${CALL}`), /call\.yaml:2:10: ports '30000-20000': write LOW-HIGH/);
  t.match(errorOf(`media:\n  codecs: [G729]\n${CALL}`), /call\.yaml:2:\d+: .*codecs/);
  t.match(errorOf(`${CALL}  - dtmf: '12'\n`), /call\.yaml:4:5: a dtmf step needs a 'media' setting/);
  t.match(errorOf(`media: {}\n${CALL}  - dtmf: 'xyz'\n`), /call\.yaml:5:\d+: .*dtmf/);
});
