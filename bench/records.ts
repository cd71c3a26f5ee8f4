// What the monitor benchmarks and fuzzers build record batches from: a seeded generator, function
// codes, the columns of one batch (the addon's encodeBatch input), and byte-level mutation.
import { FUNCTIONS, ROLE_SHIFT } from '../src/generated/functions.js';
import type { BatchColumns } from '../src/native/addon.js';

/** A seeded generator of numbers in [0, 1) (a linear congruential one: fast, reproducible). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** The record code of function `name` in role `role`. */
export const fnCode = (name: string, role: number) =>
  FUNCTIONS.findIndex((f) => f.name === name) | (role << ROLE_SHIFT);

/** Zeroed columns for a batch of n records. */
export function batchColumns(n: number): Required<Omit<BatchColumns, 'seq' | 'dropped' | 'epoch'>> {
  return {
    fn: new Uint32Array(n),
    peer: new Int32Array(n),
    bytes: new Float64Array(n),
    comm: new Uint32Array(n),
    alg: new Uint32Array(n),
    start: new Float64Array(n),
    duration: new Float64Array(n),
    crossMsgs: new Uint32Array(n),
    crossBytes: new Float64Array(n),
    tag: new Uint32Array(n),
  };
}

/** Flips, overwrites, cuts or repeats a few bytes of a frame body. */
export function mutate(body: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(body);
  const pick = () => Math.floor(rnd() * b.length);
  switch (Math.floor(rnd() * 5)) {
    case 0:
      for (let k = 0; k < 1 + rnd() * 3; k++) if (b.length) b[pick()] ^= 1 << Math.floor(rnd() * 8);
      return b;
    case 1:
      for (let k = 0; k < 1 + rnd() * 3; k++) if (b.length) b[pick()] = Math.floor(rnd() * 256);
      return b;
    case 2:
      return b.subarray(0, pick());
    case 3: {
      const i = pick();
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.max(0, i - 8), i), b.subarray(i)]);
    }
    default: {
      const i = pick();
      return Buffer.concat([b.subarray(0, i), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), b.subarray(i)]);
    }
  }
}
