// Load: the public surface of engine/load.
export { runLoad, type LoadRunOptions, type LoadRunResult } from './coordinator.js';
export { LoadRunner, effectiveLoad, type LoadOverrides } from './runner.js';
export { ArrivalSchedule } from './arrivals.js';
export { partOf, shareOf, ownsArrival, type Part } from './segment.js';
export { workersByLoad, WORKER_TRANSACTIONS_PER_SECOND, transactionsPerSecond } from './worker-count.js';
