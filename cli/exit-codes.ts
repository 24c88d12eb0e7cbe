// The exit-code contract of the sipstorm CLI. Documented in README.md and
// `sipstorm --help`; CI pipelines switch on these numbers, so they never change.

export const EXIT = {
  /** Everything passed: every expectation, conformance check and threshold. */
  OK: 0,
  /** The run was carried out and something failed (engine/metrics/verdict.ts says what can). */
  FAILED: 1,
  /** Bad input: scenario file, flags, CSV, certificate, threshold expression. No traffic was sent. */
  BAD_INPUT: 2,
  /** The run could not be carried out: target unreachable at start, port in use, generator overloaded; or it passed but a report could not be written. */
  CANNOT_RUN: 3,
  /** Interrupted by SIGINT (Ctrl-C); reports of what ran are still written. */
  INTERRUPTED: 130,
  /** Terminated by SIGTERM; reports of what ran are still written. */
  TERMINATED: 143,
} as const;

export const EXIT_CODE_TABLE = `Exit codes:
  0    everything passed
  1    a step expectation, conformance case or check, threshold, worker or count balance failed
       (merge/report: also an interrupted run)
  2    bad input (scenario, flags, files, threshold expression); nothing was sent
  3    the run could not be carried out (target unreachable, port in use, generator overloaded),
       or it passed but a report could not be written (disk full)
  130  interrupted by SIGINT (reports of what ran are still written)
  143  terminated by SIGTERM (reports of what ran are still written)`;
