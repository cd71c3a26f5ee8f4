// The traffic of the scale benchmark's simulated job: a 3-D 7-point stencil on a periodic grid of
// N ranks (each rank exchanges halos with its 6 neighbours every step: Irecv and Isend to each,
// then Waitall) plus one 8-byte Allreduce on MPI_COMM_WORLD per step, as the shim records it.
// A rank's stream is its steps' records cut into batches of `recordsPerBatch`.
import { Role } from '../../src/generated/functions.js';
import { batchColumns, fnCode } from '../records.js';

/** The communicator id the shim gives MPI_COMM_WORLD's CommDef (and the Allreduce records). */
export const WORLD_LOCAL_ID = 0;
/** Halo bytes per face in x, y and z (different, so that the matrix is not uniform). */
export const FACE_BYTES = [8192, 4096, 2048] as const;
export const ALLREDUCE_BYTES = 8;

export const CODES = {
  irecv: fnCode('MPI_Irecv', Role.Recv),
  isend: fnCode('MPI_Isend', Role.Send),
  waitall: fnCode('MPI_Waitall', Role.Other),
  allreduce: fnCode('MPI_Allreduce', Role.Coll),
};

/** Grid dimensions for n ranks, as balanced as MPI_Dims_create makes them (largest first). */
export function gridDims(n: number): [number, number, number] {
  const dims = [1, 1, 1];
  let rest = n;
  const factors: number[] = [];
  for (let f = 2; f * f <= rest; f++)
    while (rest % f === 0) {
      factors.push(f);
      rest /= f;
    }
  if (rest > 1) factors.push(rest);
  // largest factors first, each onto the currently smallest dimension
  for (const f of factors.sort((a, b) => b - a)) {
    dims.sort((a, b) => a - b);
    dims[0] *= f;
  }
  return dims.sort((a, b) => b - a) as [number, number, number];
}

/** One step of one rank: its records' function codes, peers and bytes. */
export interface StepTemplate {
  fn: number[];
  peer: number[];
  bytes: number[];
}

/** The records of one step of `rank` (neighbours along a dimension of size 1 are the rank itself: skipped). */
export function stepTemplate(rank: number, dims: readonly number[]): StepTemplate {
  const [X, Y, Z] = dims;
  const x = rank % X,
    y = Math.floor(rank / X) % Y,
    z = Math.floor(rank / (X * Y));
  const at = (a: number, b: number, c: number) => ((a + X) % X) + ((b + Y) % Y) * X + ((c + Z) % Z) * X * Y;
  const nbrs: Array<[number, number]> = [];
  for (const [d, n] of [
    [0, at(x - 1, y, z)],
    [0, at(x + 1, y, z)],
    [1, at(x, y - 1, z)],
    [1, at(x, y + 1, z)],
    [2, at(x, y, z - 1)],
    [2, at(x, y, z + 1)],
  ] as const)
    if (n !== rank) nbrs.push([n, FACE_BYTES[d]]);
  const t: StepTemplate = { fn: [], peer: [], bytes: [] };
  const push = (fn: number, peer: number, bytes: number) => {
    t.fn.push(fn);
    t.peer.push(peer);
    t.bytes.push(bytes);
  };
  for (const [n, b] of nbrs) push(CODES.irecv, n, b);
  for (const [n, b] of nbrs) push(CODES.isend, n, b);
  push(CODES.waitall, -1, 0);
  push(CODES.allreduce, -1, ALLREDUCE_BYTES);
  return t;
}

/** Columns of batch `seq` of a rank whose step is `t` (records seq*n .. seq*n+n-1 of its stream). */
export function fillBatch(
  cols: ReturnType<typeof batchColumns>,
  t: StepTemplate,
  seq: number,
  n: number,
): ReturnType<typeof batchColumns> {
  const per = t.fn.length;
  for (let k = 0; k < n; k++) {
    const i = seq * n + k;
    const j = i % per;
    cols.fn[k] = t.fn[j];
    cols.peer[k] = t.peer[j];
    cols.bytes[k] = t.bytes[j];
    cols.comm[k] = t.fn[j] === CODES.allreduce ? WORLD_LOCAL_ID : 0;
    cols.start[k] = 1000 + i * 1500; // 1.5 us apart
    cols.duration[k] = t.fn[j] === CODES.waitall ? 900 : 200;
  }
  return cols;
}

/** What a rank's stream of `total` records holds: calls per function code, bytes per function
 * code, and its Isend traffic per destination (bytes, messages). */
export interface RankTotals {
  fnCount: Map<number, number>;
  fnBytes: Map<number, number>;
  sends: Map<number, { bytes: number; messages: number }>;
  allreduces: number;
}

/** The totals of a rank's stream, counted from its step (each template record occurs
 * floor(total / per) times, the first total % per of them once more). */
export function rankTotals(t: StepTemplate, total: number): RankTotals {
  const per = t.fn.length;
  const out: RankTotals = { fnCount: new Map(), fnBytes: new Map(), sends: new Map(), allreduces: 0 };
  for (let j = 0; j < per; j++) {
    const times = Math.floor(total / per) + (j < total % per ? 1 : 0);
    if (times === 0) continue;
    const f = t.fn[j];
    out.fnCount.set(f, (out.fnCount.get(f) ?? 0) + times);
    out.fnBytes.set(f, (out.fnBytes.get(f) ?? 0) + times * t.bytes[j]);
    if (f === CODES.isend) {
      const s = out.sends.get(t.peer[j]) ?? { bytes: 0, messages: 0 };
      s.bytes += times * t.bytes[j];
      s.messages += times;
      out.sends.set(t.peer[j], s);
    }
    if (f === CODES.allreduce) out.allreduces += times;
  }
  return out;
}
