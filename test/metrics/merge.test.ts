// Histograms recorded in several workers, crossed (as raw counts between
// threads, encoded between machines) and added, give exactly the percentiles
// of one histogram of all the values.

import t from 'tap';
import { deserialize, serialize } from 'node:v8';
import {
  addRaw, decodeHistogram, emptyRaw, encodeHistogram, encodeRaw, histogramOf, mergeSnapshots, newHistogram, percentiles, rawOf, recordMs, RoleMetrics, emptyRunSnapshot,
} from '../../engine/metrics/index.js';
import { evaluateThresholds, parseThreshold } from '../../engine/metrics/index.js';

t.test('merged histogram equals the histogram of all values', async (t) => {
  const all = newHistogram();
  const workers = [newHistogram(), newHistogram(), newHistogram()];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 30_000; i++) {
    const ms = i % 1000 === 0 ? 5000 * rand() : 0.2 + 20 * rand() ** 3;
    recordMs(all, ms);
    recordMs(workers[i % 3]!, ms);
  }
  const merged = decodeHistogram(encodeHistogram(workers[0]!));
  for (const w of workers.slice(1)) merged.add(decodeHistogram(encodeHistogram(w)));
  // Both sides through the same encoded form: HDR reports a bucket's highest equivalent value.
  t.same(percentiles(merged), percentiles(decodeHistogram(encodeHistogram(all))), 'p50/p90/p99/p99.9/max/mean identical');
  t.equal(merged.totalCount, 30_000);
  t.equal(merged.getValueAtPercentile(99.99), all.getValueAtPercentile(99.99));
});

t.test('raw counts crossing threads add up to the histogram of all values, and encode as it does', async (t) => {
  const all = newHistogram();
  const workers = [newHistogram(), newHistogram(), newHistogram()];
  let seed = 11;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 30_000; i++) {
    const ms = i % 997 === 0 ? 100_000 * rand() : 0.05 + 50 * rand() ** 3;
    recordMs(all, ms);
    recordMs(workers[i % 3]!, ms);
  }
  // v8.serialize is the structured clone postMessage does between worker threads.
  const crossed = workers.map((w) => deserialize(serialize(rawOf(w))) as ReturnType<typeof rawOf>);
  const sum = crossed.reduce(addRaw, emptyRaw());
  const reference = decodeHistogram(encodeHistogram(all));
  t.same(percentiles(histogramOf(sum)), percentiles(reference), 'p50/p90/p99/p99.9/max/mean identical');
  t.equal(histogramOf(sum).getValueAtPercentile(99.99), reference.getValueAtPercentile(99.99));
  t.equal(encodeRaw(sum), encodeHistogram(reference), 'the encoded result is the one of the histogram of all values');
  t.equal(encodeRaw(addRaw(sum, emptyRaw())), encodeRaw(sum), 'adding an empty histogram changes nothing');
  t.same(percentiles(histogramOf(emptyRaw())), percentiles(newHistogram()), 'an empty one reads as empty');
  const raw = rawOf(workers[0]!);
  t.equal(raw.index.length, crossed[0]!.index.length, 'the same buckets arrive');
  t.ok(raw.index.buffer.byteLength === raw.index.byteLength && raw.count.buffer.byteLength === raw.count.byteLength, 'arrays own exactly their buffers: a clone copies nothing more');
});

t.test('known values: exact percentiles after merge', async (t) => {
  const a = new RoleMetrics('s', 'main', ['OPTIONS']);
  const b = new RoleMetrics('s', 'main', ['OPTIONS']);
  for (let v = 1; v <= 100; v++) (v % 2 ? a : b).steps[0]!.latency(v, v + 1000);
  a.started = a.passed = 50;
  b.started = b.passed = 50;
  const snap = (r: RoleMetrics) => ({ ...emptyRunSnapshot(), roles: [r.snapshot()] });
  const m = mergeSnapshots(snap(a), snap(b));
  const step = m.roles[0]!.steps[0]!;
  const p = percentiles(histogramOf(step.service));
  t.equal(p.count, 100);
  // 3 significant digits: every value is exact to within 0.1%.
  t.ok(Math.abs(p.p50 - 50) <= 0.05, `p50 of 1..100 ms is 50 ms (${p.p50})`);
  t.ok(Math.abs(p.p99 - 99) <= 0.1, `p99 is 99 ms (${p.p99})`);
  t.ok(Math.abs(p.max - 100) <= 0.1, `max is 100 ms (${p.max})`);
  const c = percentiles(histogramOf(step.corrected));
  t.ok(Math.abs(c.p50 - 1050) <= 1, `corrected p50 ${c.p50} within one HDR bucket of 1050 ms`);
  t.equal(m.roles[0]!.started, 100);
});

t.test('thresholds: the four forms parse and evaluate; bad ones say where', async (t) => {
  const result = {
    totals: { started: 1000, passed: 999, failed: 1, running: 0, dropped: 0, verdict: 'passed' },
    durationMs: 1000,
    conformance: [],
    scenarios: [{ roles: [{ steps: [{ name: 'REGISTER', finals: 10, failed: 0, timeouts: 0, errors: 0, service: { count: 10, p50: 5, p90: 9, p99: 150, p999: 180, max: 190, mean: 20 }, corrected: { count: 10, p99: 300 } }] }], transport: { retransmissionsSent: 0 } }],
  } as never;
  const forms = ['step.REGISTER.p99 < 200ms', 'failed.rate < 0.1%', 'rate.achieved >= 950', 'conformance.failed == 0'];
  const v = evaluateThresholds(forms.map((f) => parseThreshold(f)), result);
  t.same(v.map((x) => x.ok), [true, false, true, true]);
  t.same(v.map((x) => x.value), [150, 0.001, 1000, 0]);
  t.throws(() => parseThreshold('step.REGISTER.p99 << 200ms'), { code: 'THRESHOLD_INVALID' });
  t.throws(() => parseThreshold('latency < 5'), /unknown metric 'latency'/);
});
