// Conformance suites: the public surface of engine/suites.
export { parseExpectation, judge, ExpectationError } from '../ua/expect.js';
export type { Expectation } from '../scenario/index.js';
export { loadSuite, suiteNames, SuiteError, type Suite, type SuiteCase } from './load.js';
export { SuiteRunner, type CaseResult, type SuiteRunnerOptions } from './runner.js';
export { rewriteTopVia, rewriteDomain } from './rewrite.js';
export { suiteResult, bySection, caseLabel, caseFailure, caseOutcome, caseExpected } from './result.js';
