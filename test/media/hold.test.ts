// Hold by re-INVITE (RFC 3264 §8.4): a re-INVITE in the dialog with
// `direction: inactive` makes a new offer; its answer stops the stream
// sending, so a dtmf step on hold fails with the reason, and a re-INVITE
// without a direction (the setting's sendrecv) takes the call off hold: DTMF
// goes out again. Judged by step outcomes, not by time.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'media-hold-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function scenario(name: string, afterHold: string[]): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, [
    `name: ${name}`, 'media: {}', 'load: { model: open, rate: 2, total: 2 }', 'steps:',
    '  - send: INVITE', "    to: 'sip:echo@${target.host}:${target.port}'", '    expect: 200', '  - send: ACK',
    '  - send: INVITE', '    id: hold', '    dialog: true', '    direction: inactive', '    expect: 200', '  - send: ACK', '    id: ack-hold',
    ...afterHold,
    '  - send: BYE', '    expect: 200', '',
  ].join('\n'));
  return file;
}

t.test('on hold no DTMF goes out; off hold it does', async (t) => {
  const held = await runCli(['run', scenario('held', ["  - dtmf: '5'"]), '--workers', '1']);
  t.equal(held.status, 1, held.out.slice(-2000));
  t.match(held.out, /step 5 'dtmf': the stream does not send \(on hold or recvonly\)|DTMF_NOT_SENDING/);
  const resumed = await runCli(['run', scenario('resumed', ['  - send: INVITE', '    id: resume', '    dialog: true', '    expect: 200', '  - send: ACK', '    id: ack-resume', "  - dtmf: '5'"]), '--workers', '1']);
  t.equal(resumed.status, 0, resumed.out.slice(-2000));
  const steps = Object.fromEntries(resumed.result.scenarios[0].roles[0].steps.map((s: { name: string }) => [s.name, s]));
  t.equal(steps.hold.codes['200'], 2, 'the hold re-INVITE was answered');
  t.equal(steps.dtmf.passed, 2, 'DTMF went out after the call came off hold');
  t.equal(resumed.result.media.streams, 2, 'one stream per call across its re-INVITEs');
});
