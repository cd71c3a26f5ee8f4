// Work in steps: a generator that yields at checkpoints (every row of a matrix, every few thousand
// values), driven to completion at once (the synchronous APIs) or in slices that give the event
// loop a turn every ~10 ms (the monitor's reports, so that other clients are served meanwhile).

/** Work that yields at checkpoints and returns a T. */
export type Steps<T> = Generator<void, T, undefined>;

/** Longest stretch of work between two turns of the event loop (ms). */
export const SLICE_MS = 10;

/** Runs `steps` to completion without yielding. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Runs `steps`, giving the event loop a turn whenever `sliceMs` have passed since the last one. */
export async function runStepsAsync<T>(steps: Steps<T>, sliceMs = SLICE_MS): Promise<T> {
  let t0 = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - t0 >= sliceMs) {
      await new Promise<void>((res) => setImmediate(res));
      t0 = performance.now();
    }
  }
}
