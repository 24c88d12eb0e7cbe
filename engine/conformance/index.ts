// Conformance checks: the public surface of engine/conformance.
export { ALL_CHECKS, REQUEST_CHECKS, RESPONSE_CHECKS, type Check } from './catalog.js';
export { ConformanceChecker, mergeCheckCounts, type CheckCounts } from './checker.js';
