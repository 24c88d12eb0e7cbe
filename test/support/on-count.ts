// Acting on events, not on wall-clock instants: a test that must do something
// in the middle of a run (pause or stop a server) waits for a count the server
// keeps (e.g. requests answered) instead of a timer a busy machine can outrun.

/** Calls then() once count() reaches n (looked at every 5 ms); returns a function that cancels it. */
export function onCount(count: () => number, n: number, then: () => void): () => void {
  const timer = setInterval(() => {
    if (count() < n) return;
    clearInterval(timer);
    then();
  }, 5);
  return () => clearInterval(timer);
}
