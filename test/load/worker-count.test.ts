// The default number of workers follows the load (engine/load/worker-count.ts):
// one until the peak rate times the transactions of an instance passes what a
// worker carries, then one more per that much, never over the cores; a closed
// model (no rate to read) takes every core; --rate overrides the file's rate.
// A worker that carries 8,000 transactions a second or more gets a small young
// generation; under that, V8's default.

import t from 'tap';
import { compileScenarioText, loadScenarioFile } from '../../engine/scenario/index.js';
import { workersByLoad, WORKER_TRANSACTIONS_PER_SECOND, transactionsPerSecond } from '../../engine/load/index.js';

const root = new URL('../../../', import.meta.url).pathname;
const call = loadScenarioFile(`${root}scenarios/uac-call.yaml`); // INVITE, ACK, BYE: 3 transactions per call

const perCall = 3;
const oneWorkerRate = Math.floor(WORKER_TRANSACTIONS_PER_SECOND / perCall);

t.equal(workersByLoad([call], {}, 8), 1, 'the file rate (10/s): one worker');
t.equal(workersByLoad([call], { rate: oneWorkerRate }, 8), 1, 'up to one worker\'s capacity: one');
t.equal(workersByLoad([call], { rate: oneWorkerRate + 1 }, 8), 2, 'just over it: two');
t.equal(workersByLoad([call], { rate: oneWorkerRate * 5 }, 8), 5, 'five times it: five');
t.equal(workersByLoad([call], { rate: oneWorkerRate * 50 }, 2), 2, 'never more than the cores');
t.equal(workersByLoad([call], {}, 1), 1, 'one core: one');

const ramp = compileScenarioText(
  `name: ramp
load:
  model: open
  phases:
    - { duration: 10s, rate: 10, rampTo: ${WORKER_TRANSACTIONS_PER_SECOND * 2} }
    - { duration: 10s, rate: 10 }
steps:
  - send: OPTIONS
    expect: 200
`,
  'ramp.yaml',
);
t.equal(workersByLoad([ramp], {}, 8), 2, 'a ramp counts at its peak');
t.equal(workersByLoad([call, ramp], {}, 8), 2, 'several scenarios: the most any needs');

const closed = compileScenarioText(
  `name: closed
load:
  model: closed
  iterations: 10
users:
  count: 5
steps:
  - send: OPTIONS
    expect: 200
`,
  'closed.yaml',
);
t.equal(workersByLoad([closed], {}, 4), 4, 'a closed model: every core');
t.equal(workersByLoad([closed], { rate: 10 }, 4), 1, '--rate makes it open: by load');

// The transactions a second a load makes (what the warm-up and the worker count read).
const options = loadScenarioFile(`${root}scenarios/options.yaml`); // one transaction per instance
t.equal(transactionsPerSecond(options, { rate: 10_000 }), 10_000, 'options.yaml at 10,000/s: 10,000 transactions a second');
t.equal(transactionsPerSecond(call, { rate: 1000 }), 3000, 'uac-call.yaml at 1,000 calls/s: 3,000');
t.equal(transactionsPerSecond(closed, {}), undefined, 'a closed model: no rate to read');
