// The seeded generator and the pause distributions: the same seed draws the
// same numbers, streams of other keys differ, each sampler's mean and standard
// deviation over many seeded draws match the distribution's, and bad
// parameters are refused by validate with their file:line:col.

import t from 'tap';
import { meanOf, Random, sample, streamSeed, type Distribution } from '../../engine/random/index.js';
import { compileScenarioText, ScenarioErrors, ScenarioError } from '../../engine/scenario/index.js';

function stats(xs: number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, sd: Math.sqrt(v) };
}

t.test('same seed, same numbers; another seed or key, others', async (t) => {
  const draw = (seed: number) => {
    const r = new Random(seed);
    return Array.from({ length: 20 }, () => r.next());
  };
  t.same(draw(42), draw(42));
  t.not(draw(42).join(), draw(43).join());
  t.not(streamSeed(7, 2, 0, 1), streamSeed(7, 2, 0, 2), 'arrival 1 and 2 of a role have their own streams');
  t.not(streamSeed(7, 2, 0, 1), streamSeed(7, 2, 1, 1), 'and so have two roles');
  t.not(streamSeed(7, 2, 0, 1), streamSeed(7, 2, 0, 1 + 2 ** 32), 'the high word of an arrival number counts');
  const r = new Random(1);
  let lo = 1;
  let hi = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = r.next();
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  t.ok(lo >= 0 && lo < 0.001 && hi < 1 && hi > 0.999, `uniform over [0, 1): ${lo} .. ${hi}`);
});

t.test('each sampler: mean and deviation of 200,000 seeded draws within 2% of the distribution\'s', async (t) => {
  const cases: [Distribution, number, number][] = [
    // [distribution, mean, standard deviation]
    [{ type: 'fixed', ms: 250 }, 250, 0],
    [{ type: 'uniform', min: 100, max: 300 }, 200, 200 / Math.sqrt(12)],
    [{ type: 'normal', mean: 1000, stddev: 100 }, 1000, 100],
    [{ type: 'exponential', mean: 500 }, 500, 500],
    [{ type: 'lognormal', mean: 120_000, stddev: 30_000 }, 120_000, 30_000],
    // Pareto of shape 5, scale 1 s: mean 5/4 s, variance 5/(16*3) s^2.
    [{ type: 'pareto', shape: 5, scale: 1000 }, 1250, 1000 * Math.sqrt(5 / 48)],
  ];
  for (const [d, mean, sd] of cases) {
    const r = new Random(streamSeed(2026, d.type.length));
    const xs = Array.from({ length: 200_000 }, () => sample(d, r));
    const s = stats(xs);
    t.ok(Math.abs(s.mean - mean) <= mean * 0.02, `${d.type}: mean ${s.mean.toFixed(1)} vs ${mean}`);
    t.ok(Math.abs(s.sd - sd) <= Math.max(sd * 0.02, 1e-9), `${d.type}: stddev ${s.sd.toFixed(1)} vs ${sd.toFixed(1)}`);
    t.ok(Math.abs(meanOf(d) - mean) < 1e-6 * mean, `${d.type}: meanOf says ${meanOf(d)}`);
    t.ok(xs.every((x) => x >= 0), `${d.type}: never negative`);
  }
  t.equal(meanOf({ type: 'pareto', shape: 1, scale: 10 }), Infinity, 'a pareto of shape 1 has no mean');
});

t.test('a normal pause is cut at zero, and its mean hold says so', async (t) => {
  const d: Distribution = { type: 'normal', mean: 100, stddev: 100 };
  const r = new Random(9);
  const s = stats(Array.from({ length: 200_000 }, () => sample(d, r)));
  t.ok(Math.abs(s.mean - meanOf(d)) < meanOf(d) * 0.02, `mean of max(0, X) ${s.mean.toFixed(2)} vs ${meanOf(d).toFixed(2)}`);
  t.ok(meanOf(d) > 100, 'above the uncut mean');
});

function errorsOf(text: string): string[] {
  try {
    compileScenarioText(text, 'pauses.yaml');
  } catch (err) {
    if (err instanceof ScenarioErrors) return err.errors.map((e) => e.message);
    if (err instanceof ScenarioError) return [err.message];
    throw err;
  }
  return [];
}

t.test('pause syntax: every distribution compiles to its parameters', async (t) => {
  const s = compileScenarioText(
    [
      'steps:',
      '  - pause: 2s',
      '  - pause: { distribution: fixed, value: 3s }',
      '  - pause: { min: 1s, max: 2s }',
      '  - pause: { mean: 1s, stddev: 100ms }',
      '  - pause: { mean: 1s }',
      '  - pause: { distribution: lognormal, mean: 120s, stddev: 30s }',
      '  - pause: { distribution: pareto, shape: 2.5, scale: 1s }',
      '  - pause: { distribution: pareto, shape: 2, mean: 4s }',
    ].join('\n'),
    'pauses.yaml',
  );
  t.same(
    s.roles[0]!.steps.map((st) => (st.kind === 'pause' ? st.pause : undefined)),
    [
      { type: 'fixed', ms: 2000 },
      { type: 'fixed', ms: 3000 },
      { type: 'uniform', min: 1000, max: 2000 },
      { type: 'normal', mean: 1000, stddev: 100 },
      { type: 'exponential', mean: 1000 },
      { type: 'lognormal', mean: 120_000, stddev: 30_000 },
      { type: 'pareto', shape: 2.5, scale: 1000 },
      { type: 'pareto', shape: 2, scale: 2000 },
    ],
  );
});

t.test('bad parameters: one line each, with file:line:col', async (t) => {
  const errs = errorsOf(
    [
      'steps:',
      '  - pause: { distribution: lognormal, mean: 0s, stddev: 5ms }',
      '  - pause: { distribution: exponential, mean: 1s, stddev: 5ms }',
      '  - pause: { distribution: pareto, shape: 0.5, mean: 1s }',
      '  - pause: { distribution: lognormal, mean: 1s }',
      '  - pause: { distribution: uniform, min: 2s, max: 1s }',
      '  - pause: { distribution: pareto, shape: 2 }',
    ].join('\n'),
  );
  t.same(errs, [
    "pauses.yaml:2:12: step 1: a lognormal pause needs a 'mean' above 0 and a 'stddev' of 0 or more",
    "pauses.yaml:3:51: step 2: an exponential pause takes mean, not 'stddev'",
    "pauses.yaml:4:36: step 3: a pareto pause of shape 0.5 has no finite mean: give 'scale' instead, or a shape above 1",
    "pauses.yaml:5:12: step 4: a lognormal pause needs 'stddev'",
    "pauses.yaml:6:12: step 5: a uniform pause needs 'max' at least 'min'",
    "pauses.yaml:7:12: step 6: a pareto pause needs 'scale' (its shortest pause) or 'mean'",
  ]);
  t.match(errorsOf('steps:\n  - pause: { distribution: normal, mean: -1s, stddev: 1s }')[0], /^pauses\.yaml:2:42: .*must be a duration/, 'a negative mean is not a duration');
  t.match(errorsOf('steps:\n  - pause: { distribution: gamma, mean: 1s }')[0], /^pauses\.yaml:2:/, 'an unknown distribution');
});

t.test('erlangs: the rate follows from the mean hold (Little\'s law), and needs one', async (t) => {
  const s = compileScenarioText(
    [
      'load: { erlangs: 50, total: 10 }',
      'steps:',
      '  - send: OPTIONS',
      '  - pause: { distribution: lognormal, mean: 90s, stddev: 30s }',
      '  - loop:',
      '      count: 3',
      '      steps:',
      '        - pause: 10s',
    ].join('\n'),
    'erlang.yaml',
  );
  const load = s.roles[0]!.load;
  t.equal(load.meanHoldMs, 120_000, 'mean hold: 90 s + 3 x 10 s');
  t.equal(load.rate, 50 / 120, '50 erlangs over 120 s: 0.4167 calls a second');
  t.same(errorsOf('load: { erlangs: 5 }\nsteps:\n  - send: OPTIONS'), ["pauses.yaml:1:9: 'erlangs' needs a mean hold time: a pause step (the call's hold), or 'meanHold'"]);
  t.equal(compileScenarioText('load: { erlangs: 5, meanHold: 10s }\nsteps:\n  - send: OPTIONS', 'x.yaml').roles[0]!.load.rate, 0.5);
  t.match(errorsOf('load: { erlangs: 5, rate: 3 }\nsteps:\n  - pause: 1s')[0], /give 'erlangs' or 'rate'\/'phases', not both/);
});
