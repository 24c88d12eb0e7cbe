// RTP receive statistics on crafted sequences, timed by a ManualClock:
// RFC 3550 A.1/A.3 (loss across the 16-bit wrap, duplicates and reordered
// packets counted apart, never as loss or gain) and A.8 jitter (constant
// transit gives 0; transit alternating by D converges to D).

import t from 'tap';
import { readRtpHeader, RtpReceiver, writeRtpHeader } from '../../engine/media/index.js';
import { ManualClock } from '../../engine/timer/index.js';

function packet(seq: number, ts: number, pt = 0, ssrc = 0x1234): Buffer {
  const b = Buffer.alloc(172);
  writeRtpHeader(b, 0, false, pt, seq, ts, ssrc);
  return b;
}

t.test('header round trip', async (t) => {
  const h = readRtpHeader(packet(65535, 4294967295, 8, 0xdeadbeef))!;
  t.same([h.seq, h.ts, h.pt, h.ssrc, h.payloadOffset, h.payloadLength], [65535, 4294967295, 8, 0xdeadbeef, 12, 160]);
  t.equal(readRtpHeader(Buffer.from('not rtp at all')), undefined);
});

t.test('in order across the sequence wrap: nothing lost', async (t) => {
  const clock = new ManualClock(0);
  const r = new RtpReceiver();
  for (let i = 0; i < 200; i++) {
    r.onPacket(packet((65500 + i) & 0xffff, i * 160), clock.now());
    clock.set(clock.now() + 20);
  }
  t.equal(r.expected, 200);
  t.equal(r.received, 200);
  t.equal(r.lost, 0);
  t.equal(r.extendedMax, 65500 + 199, 'the extended sequence number counts the cycle');
  t.equal(r.jitterMs, 0, 'constant transit: no jitter');
});

t.test('gaps across the wrap are loss; duplicates and reordering are counted apart', async (t) => {
  const r = new RtpReceiver();
  // 65530..65535, 0..9 = 16 packets expected; 65533 and 2 lost; 4 arrives after 6; 7 twice; 65531 twice.
  const order = [65530, 65531, 65532, 65531, 65534, 65535, 0, 1, 3, 5, 6, 4, 7, 7, 8, 9];
  order.forEach((s, i) => r.onPacket(packet(s, i * 160), i * 20));
  t.equal(r.expected, 16);
  t.equal(r.received, 14, 'duplicates are not received twice');
  t.equal(r.lost, 2);
  t.equal(r.duplicates, 2);
  t.equal(r.reordered, 1);
});

t.test('a late packet from before the first one moves the base back, not the loss up', async (t) => {
  const r = new RtpReceiver();
  [10, 11, 9, 12].forEach((s, i) => r.onPacket(packet(s, s * 160), i * 20));
  t.equal(r.expected, 4);
  t.equal(r.lost, 0);
  t.equal(r.reordered, 1);
});

t.test('A.8 jitter: transit alternating by 20 ms converges to 20 ms', async (t) => {
  const clock = new ManualClock(0);
  const r = new RtpReceiver();
  for (let i = 0; i < 400; i++) {
    clock.set(i * 20 + (i % 2 ? 20 : 0));
    r.onPacket(packet(i, i * 160), clock.now());
  }
  t.ok(Math.abs(r.jitterMs - 20) < 0.01, `jitter ${r.jitterMs.toFixed(3)} ms`);
});

t.test('telephone-event packets share the sequence but not the jitter; another SSRC is set apart', async (t) => {
  const r = new RtpReceiver(8000, 101);
  for (let i = 0; i < 10; i++) r.onPacket(packet(i, i < 5 ? i * 160 : 800, i < 5 ? 0 : 101), i * 20);
  r.onPacket(packet(100, 0, 0, 0x9999), 300);
  t.equal(r.events, 5);
  t.equal(r.received, 10);
  t.equal(r.otherSsrc, 1);
  t.equal(r.jitterMs, 0);
});
