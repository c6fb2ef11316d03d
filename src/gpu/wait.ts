/**
 * Sleeping waits for Dawn in Node.
 *
 * While a `mapAsync` or `onSubmittedWorkDone` is pending, Dawn's Node binding polls for its
 * completion by re-queueing itself with `setImmediate`: the JavaScript thread spins at 100% of a
 * core until the GPU is done. On a CPU Vulkan driver (lavapipe) the "GPU" is the machine's other
 * threads, so the spin takes a core away from the very work it waits for.
 *
 * `waitSleeping` lets Dawn's poll run only between short blocking sleeps (`Atomics.wait`, which
 * takes no CPU): the thread is idle almost all the time and a completion is seen within about one
 * sleep. Node only (a browser's main thread may not block, and browsers do not spin anyway).
 */

/** Event-loop turns to wait without sleeping first, so that quick completions stay quick. */
export const WAIT_EAGER_TURNS = 4;
/** Length of one blocking sleep between polls, in ms. */
export const WAIT_SLEEP_MS = 1;

let sleepCell: Int32Array | undefined;

function blockFor(ms: number): void {
  sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
  // Nobody ever notifies this cell: the wait always runs to its timeout.
  Atomics.wait(sleepCell, 0, 0, ms);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves (or rejects) as `promise` does, sleeping between turns of the event loop meanwhile. */
export async function waitSleeping<T>(promise: Promise<T>, sleepMs = WAIT_SLEEP_MS): Promise<T> {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  // Keep an unhandled rejection from surfacing before we await `tracked` below.
  tracked.catch(() => undefined);
  for (let turn = 0; !settled; turn++) {
    if (turn >= WAIT_EAGER_TURNS) blockFor(sleepMs);
    await nextTurn();
  }
  return tracked;
}
