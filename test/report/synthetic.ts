// A synthetic job of any size written as the per-rank files the shim writes without a monitor
// (frames from the shim's own encoder), with the traffic it must show known in advance: a 2-D torus
// of `width` columns where every rank sends twice to its right neighbour (placement epoch 0) and
// twice to the one below (epoch 1), bytes depending on the rank.
import fs from 'node:fs';
import path from 'node:path';
import { Role } from '../../src/generated/functions.js';
import { addon, batchFrame, fnCode, helloFrame, worldCommFrame } from '../monitor/helpers.js';

const SEND = fnCode('MPI_Send', Role.Send);

export interface SyntheticJob {
  size: number;
  width: number;
  /** host of each rank (one per rank when absent: "h<rank>") */
  host?: (rank: number) => string;
}

export const right = (r: number, j: SyntheticJob) => r - (r % j.width) + ((r + 1) % j.width);
export const down = (r: number, j: SyntheticJob) => (r + j.width) % j.size;
export const rightBytes = (r: number) => 100 * (1 + (r % 7));
export const downBytes = (r: number) => 1000 * (1 + (r % 3));
/** Time in MPI of a rank: a permutation of the ranks (37 is prime to the sizes used), so the extremes are known. */
export const mpiNs = (r: number, size: number) => 1_000_000 + ((r * 37) % size) * 1000;

/** Every (src, dst) pair with its bytes and messages, in (src, dst) order; epoch 0, 1 or both. */
export function expectedPairs(j: SyntheticJob, epoch?: 0 | 1): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let r = 0; r < j.size; r++) {
    if (epoch !== 1) out.push([r, right(r, j), 2 * rightBytes(r), 2]);
    if (epoch !== 0) out.push([r, down(r, j), 2 * downBytes(r), 2]);
  }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Writes the job's rank files into `dir` (one per rank); returns their paths. */
export function writeSyntheticJob(dir: string, id: string, j: SyntheticJob): string[] {
  const files: string[] = [];
  for (let r = 0; r < j.size; r++) {
    const send = (peer: number, bytes: number) => ({ fn: SEND, peer, bytes, duration: 1 });
    const f = path.join(dir, `sitempi-${id}-${r}.smpi`);
    fs.writeFileSync(
      f,
      Buffer.concat([
        helloFrame(id, r, j.size, '', j.host ? j.host(r) : `h${r}`),
        worldCommFrame(j.size),
        batchFrame(0, [send(right(r, j), rightBytes(r)), send(right(r, j), rightBytes(r))], { epoch: 0 }),
        batchFrame(1, [send(down(r, j), downBytes(r)), send(down(r, j), downBytes(r))], { epoch: 1 }),
        addon.encodeBye({ endNs: 2_000_000_000, records: 4, dropped: 0, mpiNs: mpiNs(r, j.size) }),
      ]),
    );
    files.push(f);
  }
  return files;
}
