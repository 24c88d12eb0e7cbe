// Metrics: the public surface of engine/metrics.
export * from './histogram.js';
export * from './step-metrics.js';
export * from './result.js';
export * from './thresholds.js';
export * from './timeseries.js';
export { mergeResults } from './merge-results.js';
export * from './verdict.js';
export * from './media-metrics.js';
export { checkShardSet, ShardSetError, type ShardInput } from './shard-set.js';
export { findBadHistogram, type BadHistogram } from './check-histograms.js';
export * from './step-series.js';
export * from './case-sections.js';
