// Media metrics add up like every other metric: two workers' snapshots
// merged bucket by bucket, and two shards' results (encoded histograms)
// merged by `sipstorm merge`, give the same counts and percentiles as one
// recorder that saw every stream.

import t from 'tap';
import { addMediaResults, mediaResultOf, mergeMedia, MediaMetrics, type StreamFigures } from '../../engine/metrics/index.js';

function stream(i: number): StreamFigures {
  return {
    packetsSent: 500, receiving: true, packetsReceived: 500 - (i % 5), packetsExpected: 500, packetsLost: i % 5, duplicates: 0, reordered: i % 2,
    loss: (i % 5) / 500, jitterMs: 1 + i / 10, mos: 4.4 - i / 100, oneWay: i === 7, firstPacketMs: 20 + i, dtmfSent: 0, rtcpSent: 2, rtcpReceived: 2,
  };
}

t.test('workers and shards merge to what one recorder saw', async (t) => {
  const all = new MediaMetrics();
  const a = new MediaMetrics();
  const b = new MediaMetrics();
  for (let i = 0; i < 40; i++) {
    all.add(stream(i));
    (i % 2 ? a : b).add(stream(i));
  }
  a.setupFailed();
  all.setupFailed();
  const one = mediaResultOf(all.snapshot());
  const workers = mediaResultOf(mergeMedia(a.snapshot(), b.snapshot()));
  const shards = addMediaResults([mediaResultOf(a.snapshot()), undefined, mediaResultOf(b.snapshot())])!;
  for (const merged of [workers, shards]) {
    t.equal(merged.streams, 40);
    t.equal(merged.packetsLost, one.packetsLost);
    t.equal(merged.oneWay, 1);
    t.equal(merged.setupFailed, 1);
    for (const k of ['jitterMs', 'lossPercent', 'mos', 'firstPacketMs'] as const) {
      const { histogram: _h1, ...x } = merged[k];
      const { histogram: _h2, ...y } = one[k];
      t.same(x, y, `${k}: the same percentiles`);
    }
  }
  t.ok(Math.abs(one.mos.max - 4.4) < 0.005, `MOS max 4.4 within the histogram's 3 digits (${one.mos.max})`);
  t.ok(Math.abs(one.jitterMs.min - 1) < 0.005, `jitter min 1 ms (${one.jitterMs.min})`);
  t.equal(addMediaResults([undefined, undefined]), undefined, 'no media anywhere: none in the result');
});
