// The replay's per-operation work arrays, kept from one replay to the next (a planner replays one
// trace on many placements): no allocation, page faults or garbage per replay. Arrays for traces
// above KEEP_MAX_OPS operations are not kept (bounded memory).

const KEEP_MAX_OPS = 1 << 21;

export interface Scratch {
  /** per operation: flags, cleared for each replay */
  flags: Uint8Array;
  /** per operation, written before read (no clearing): a done message's time, a posting's time */
  at: Float64Array;
  post: Float64Array;
  reqs: Int32Array;
}

let kept: Scratch | undefined;

/** Work arrays for n operations; valid until the next call. */
export function scratch(n: number): Scratch {
  let s = kept;
  if (!s || s.flags.length < n) {
    const cap = Math.max(n, Math.min(KEEP_MAX_OPS, 2 * (s?.flags.length ?? 0)));
    s = {
      flags: new Uint8Array(cap),
      at: new Float64Array(cap),
      post: new Float64Array(cap),
      reqs: new Int32Array(cap),
    };
    kept = cap <= KEEP_MAX_OPS ? s : undefined;
    return s;
  }
  s.flags.fill(0, 0, n);
  return s;
}
