// The pcapng writer on its own, read back by tshark: IPv6 and IPv4-mapped
// addresses, a SIP message too long for one TCP segment (split, then
// reassembled by tshark into one message), and the address parser.

import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngWriter } from '../../engine/capture/pcapng.js';
import { addressBytes, MAX_SEGMENT } from '../../engine/capture/packets.js';
import { Kind, type CaptureRecord } from '../../engine/capture/record.js';
import { BROKEN, tsharkAvailable, tsharkField, tsharkFrames } from '../support/tshark.js';

const missing = !tsharkAvailable();
const skip = missing && process.env.CI !== 'true' && 'tshark not installed';

function message(body: string, cseq: number): Buffer {
  return Buffer.from(
    `MESSAGE sip:bob@[::1]:5060 SIP/2.0\r\nVia: SIP/2.0/TCP [::1]:40000;branch=z9hG4bK${cseq}\r\nMax-Forwards: 70\r\nFrom: <sip:alice@[::1]>;tag=a\r\n` +
      `To: <sip:bob@[::1]>\r\nCall-ID: c${cseq}@sipstorm\r\nCSeq: ${cseq} MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    'latin1',
  );
}

t.test('address bytes', async (t) => {
  t.same([...addressBytes('127.0.0.1', false)], [127, 0, 0, 1]);
  t.same(addressBytes('::1', true).toString('hex'), '00000000000000000000000000000001');
  t.same(addressBytes('fe80::1:2', true).toString('hex'), 'fe800000000000000000000000010002');
  t.same(addressBytes('::ffff:127.0.0.1', true).toString('hex'), '00000000000000000000ffff7f000001');
  t.same(addressBytes('127.0.0.1', true).toString('hex'), '00000000000000000000ffff7f000001', 'an IPv4 address beside an IPv6 one is mapped');
  t.same(addressBytes('2001:db8::', true).toString('hex'), '20010db8000000000000000000000000');
});

t.test('IPv6 over TCP, a message longer than a segment reassembled', { skip }, async (t) => {
  if (missing) return t.fail('tshark is needed (CI=true)');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-pcapng-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'v6.pcapng');
  const w = new PcapngWriter(file, 10 * 1024 * 1024);
  const big = 'x'.repeat(2 * MAX_SEGMENT + 1000);
  const rec = (t0: number, kind: Kind, payload: Buffer): CaptureRecord => ({ t: 1_800_000_000_000 + t0, kind, protocol: 'tcp', localHost: '::1', localPort: 40000, remoteHost: '::1', remotePort: 5060, payload });
  w.add(rec(0, Kind.Sent, message('hello', 1)));
  w.add(rec(1.5, Kind.Sent, message(big, 2)));
  w.add(rec(2.25, Kind.Received, Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP [::1]:40000;branch=z9hG4bK2\r\nFrom: <sip:alice@[::1]>;tag=a\r\nTo: <sip:bob@[::1]>;tag=b\r\nCall-ID: c2@sipstorm\r\nCSeq: 2 MESSAGE\r\nContent-Length: 0\r\n\r\n')));
  w.close(0, 0);
  t.equal(w.messages, 3);
  t.same(tsharkFrames(file, BROKEN), [], 'no malformed packet, no expert warning');
  t.same(tsharkField(file, 'sip.Method == "MESSAGE"', 'sip.CSeq.seq'), ['1', '2'], 'both requests dissect, the long one reassembled');
  t.same(tsharkField(file, 'sip.Method == "MESSAGE" && sip.CSeq.seq == 2', 'tcp.reassembled.length'), [String(message(big, 2).length)], 'from three segments');
  t.same(tsharkField(file, 'sip.Status-Code == 200', 'frame.time_epoch'), ['1800000000.002250000'], 'microsecond timestamps');
  t.same(tsharkField(file, 'sip', 'ipv6.src'), ['::1', '::1', '::1']);
  t.same(tsharkField(file, 'tcp', 'tcp.checksum.status'), new Array(8).fill('1'), 'every TCP checksum checked and right: handshake, 5 data segments');
});

t.test('UDP with an IPv4 and an IPv4-mapped address is written as IPv6', { skip }, async (t) => {
  if (missing) return t.fail('tshark is needed (CI=true)');
  const dir = mkdtempSync(join(tmpdir(), 'sipstorm-pcapng-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mapped.pcapng');
  const w = new PcapngWriter(file, 1024 * 1024);
  w.add({ t: 1_800_000_000_000, kind: Kind.Sent, protocol: 'udp', localHost: '::ffff:127.0.0.1', localPort: 40000, remoteHost: '127.0.0.1', remotePort: 5060, payload: message('hi', 1) });
  w.close(0, 0);
  t.same(tsharkFrames(file, BROKEN), []);
  t.same(tsharkField(file, 'sip', 'ipv6.dst'), ['::ffff:127.0.0.1']);
  t.same(tsharkField(file, 'sip', 'udp.checksum.status'), ['1'], 'the UDP checksum is checked and right (1: good)');
});
