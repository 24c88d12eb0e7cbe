// The media clock on a ManualClock: many streams, one timer on the wheel,
// exactly 50 packets a second each, a stalled tick caught up; RFC 4733 event
// packets of a digit string; an RTCP report written and read back (its
// report block, the round trip of §6.4.1).

import t from 'tap';
import { DtmfPlayer, END_PACKETS, GAP_FRAMES, MediaScheduler, readReport, RtpReceiver, TONE_PACKETS, writeReport, type ScheduledStream } from '../../engine/media/index.js';
import { ManualClock, TimerWheel } from '../../engine/timer/index.js';

let badSlots = 0;

function fakeStream(s: MediaScheduler, sent: number[], i: number): ScheduledStream {
  const st: ScheduledStream = {
    nextAt: s.nextTick(s.wheel.now()),
    slot: -1,
    sendDue(buf, off) {
      if (off % 256 !== 0 || off + 256 > buf.length || buf !== s.buffer) badSlots++;
      sent[i]!++;
      st.nextAt += 20;
    },
  };
  return st;
}

t.test('one timer for every stream, 50 packets a second each', async (t) => {
  const wheel = new TimerWheel({ clock: new ManualClock(1000) });
  const s = new MediaScheduler(wheel);
  const sent = new Array(100).fill(0);
  const streams = sent.map((_, i) => fakeStream(s, sent, i));
  for (const st of streams) s.add(st);
  t.equal(wheel.size, 1, '100 streams, one timer on the wheel');
  wheel.advance(1000);
  t.ok(sent.every((n) => n === 50 || n === 51), `every stream sent 50 packets in a second (${Math.min(...sent)}..${Math.max(...sent)})`);
  s.remove(streams[0]!);
  s.remove(streams[99]!);
  t.equal(s.active, 98);
  const before = sent[50]!;
  // A stall: the clock jumps 200 ms at once; the packets due are sent at the next tick, the rate holds.
  (wheel.clock as ManualClock).set(wheel.now() + 200);
  wheel.advance(1);
  t.equal(sent[50]! - before, 10, '10 packets due after a 200 ms stall, all sent');
  t.equal(badSlots, 0, 'every packet written into a slot of the one ring');
  for (const st of streams.slice(1, 99)) s.remove(st);
  t.equal(wheel.size, 0, 'no stream, no timer');
});

t.test('RFC 4733: a digit is 5 packets, its end 3 times, then a gap of audio', async (t) => {
  let done = 0;
  const p = new DtmfPlayer('1#', () => done++);
  const buf = Buffer.alloc(16);
  const seen: string[] = [];
  for (let frame = 0; !p.done; frame++) {
    const e = p.next(buf, 0, frame * 160);
    seen.push(e.length ? `${buf[0]}${buf[1]! & 0x80 ? 'E' : ''}:${buf.readUInt16BE(2)}@${e.ts}${e.marker ? 'M' : ''}` : 'audio');
  }
  const per = TONE_PACKETS + END_PACKETS + GAP_FRAMES;
  t.equal(seen.length, 2 * per);
  t.same(seen.slice(0, per), ['1:160@0M', '1:320@0', '1:480@0', '1:640@0', '1:800@0', '1E:800@0', '1E:800@0', '1E:800@0', 'audio', 'audio']);
  t.equal(seen[per], `11:160@${per * 160}M`, "'#' is event 11, timestamped at its start");
  t.equal(done, 0, 'the stream calls onDone, after the last packet went');
  t.throws(() => new DtmfPlayer('12x', () => {}), { code: 'DTMF_INVALID' });
});

t.test('RTCP: a sender report with a block about what was received, read back by the peer', async (t) => {
  const r = new RtpReceiver();
  const pkt = Buffer.alloc(172);
  for (const seq of [1, 2, 4, 5]) {
    pkt.writeUInt8(0x80, 0);
    pkt.writeUInt16BE(seq, 2);
    pkt.writeUInt32BE(seq * 160, 4);
    pkt.writeUInt32BE(0xabc, 8);
    r.onPacket(pkt, seq * 20);
  }
  const state = { expectedPrior: 0, receivedPrior: 0, lastSr: 0, lastSrAt: 0 };
  const buf = Buffer.alloc(256);
  const len = writeReport(buf, { ssrc: 0x123, packets: 50, octets: 8000, rtpTs: 8000 }, r, state, 1_700_000_000_000, 'sipstorm@127.0.0.1');
  t.equal(len % 4, 0, 'a whole number of 32-bit words');
  t.equal(buf[1], 200, 'SR');
  t.equal(buf.readUInt32BE(28), 0xabc, 'the block is about the SSRC received');
  t.equal(buf[32], Math.floor((1 << 8) / 5), 'fraction lost: 1 of 5');
  t.equal(buf.readUInt32BE(32) & 0xffffff, 1, 'cumulative lost 1');
  // The peer reads our SR (for its LSR) and, 100 ms later, reports back about our SSRC 0x123.
  const peer = { expectedPrior: 0, receivedPrior: 0, lastSr: 0, lastSrAt: 0 };
  t.ok(readReport(buf.subarray(0, len), 0x999, peer, 1_700_000_000_000).valid);
  t.ok(peer.lastSr !== 0, 'the SR timestamp kept for LSR');
  const mine = new RtpReceiver();
  pkt.writeUInt32BE(0x123, 8);
  mine.onPacket(pkt, 0);
  const back = Buffer.alloc(256);
  const l2 = writeReport(back, { ssrc: 0x999, packets: 0, octets: 0, rtpTs: 0 }, mine, peer, 1_700_000_000_100, 'peer');
  t.equal(back[1], 201, 'an RR from a peer that sent nothing');
  const rtt = readReport(back.subarray(0, l2), 0x123, state, 1_700_000_000_150).rttMs!;
  t.ok(Math.abs(rtt - 50) < 1, `round trip A - LSR - DLSR = 50 ms (${rtt.toFixed(2)})`);
});
