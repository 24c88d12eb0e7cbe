// SIGINT and SIGTERM over the whole life of a command. main.ts installs the
// handlers before it loads the command, so that no moment of a run (loading
// the scenarios, starting, the traffic, writing the reports) ends silently. A
// command that keeps what it did (run, conform, serve) takes the signal with
// listen(), also one that came while it was loading, and ends with its reports
// and 130/143; any other command ends at once with one line and 130/143. A
// second signal ends the process at once.

// Imports nothing heavy: main.ts loads this before anything else, and the
// handlers are only as early as the modules main.ts waits for are small.
import { EXIT } from './exit-codes.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

export function signalExitCode(sig: StopSignal): number {
  return sig === 'SIGINT' ? EXIT.INTERRUPTED : EXIT.TERMINATED;
}

class Interrupts {
  /** The first signal received, if any. */
  first: StopSignal | undefined;
  private mode: 'pending' | 'listen' | 'exit' | 'done' = 'pending';
  private listener: ((sig: StopSignal) => void) | undefined;
  private installed = false;
  private readonly holds: (() => void)[] = [];

  install(): void {
    if (this.installed) return;
    this.installed = true;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    const s = sig as StopSignal;
    if (this.mode === 'done') {
      // Everything was written and the verdict printed: the exit code stays the one the reports give.
      process.stderr.write(`sipstorm: ${s} after the command had finished: exiting with its result\n`);
      process.exit(process.exitCode ?? 0);
    }
    if (this.first) {
      process.stderr.write(`\nsipstorm: ${s} again: quitting at once (reports may be missing)\n`);
      process.exit(signalExitCode(s));
    }
    this.first = s;
    for (const release of this.holds.splice(0)) release();
    if (this.mode === 'listen') this.listener!(s);
    else if (this.mode === 'exit') this.exitNow(s);
    // 'pending': the command being loaded takes it when it calls listen().
  };

  private exitNow(sig: StopSignal): never {
    process.stderr.write(`sipstorm: ${sig}: stopped\n`);
    process.exit(signalExitCode(sig));
  }

  /** The command handles signals from now on; one that came before is handed over at once. */
  listen(listener: (sig: StopSignal) => void): void {
    this.mode = 'listen';
    this.listener = listener;
    if (this.first) listener(this.first);
  }

  /** For commands with nothing to save (validate, merge, report): a signal ends the process at once, one that came already too. */
  exitOnSignal(): void {
    this.mode = 'exit';
    if (this.first) this.exitNow(this.first);
  }

  /** The command has returned its exit code, its reports are written: a signal from now on ends the process at once with that code, which the reports also give. */
  done(): void {
    this.mode = 'done';
  }

  /**
   * Lets a signal that arrived during synchronous work (writing the reports)
   * be delivered: libuv reads its signal pipe in the poll phase, which comes
   * before the check phase where setImmediate callbacks run.
   */
  settle(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * For tests only: with SIPSTORM_TEST_HOLD_AT=<point> the command stops at
   * that point (load: main.ts before loading the command; start: after every
   * check, before any traffic; reports: right after the reports were written),
   * says so on stderr, and goes on when a signal arrives, so a test can
   * signal at that exact moment, judged by the line and not by sleeping. Like
   * SIPSTORM_FAULT_WORKER_THROW_MS, never set in normal use.
   */
  async holdForTest(point: 'load' | 'start' | 'reports'): Promise<void> {
    if (process.env.SIPSTORM_TEST_HOLD_AT !== point || this.first) return;
    process.stderr.write(`sipstorm: test hold at ${point}: waiting for a signal\n`);
    // A signal listener does not keep the event loop alive; this timer does, until the signal comes.
    const keepAlive = setInterval(() => undefined, 60_000);
    await new Promise<void>((resolve) => this.holds.push(resolve));
    clearInterval(keepAlive);
  }
}

/** The one signal watcher of the CLI process (main thread only). */
export const interrupts = new Interrupts();
