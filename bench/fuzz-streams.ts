// Random and mutated monitor input for the fuzzer (bench/fuzz-monitor.ts): what a confused, broken
// or hostile rank might send, drawn from a seeded generator.
import { Role } from '../src/generated/functions.js';
import { addon } from '../src/native/addon.js';
import { encodeHello, encodePlacement } from '../src/wire/messages.js';
import { batchColumns, fnCode, mutate } from './records.js';

const CODES = [
  fnCode('MPI_Send', Role.Send),
  fnCode('MPI_Recv', Role.Recv),
  fnCode('MPI_Allreduce', Role.Coll),
  fnCode('MPI_Bcast', Role.Coll),
  fnCode('MPI_Alltoallv', Role.PartSend),
  fnCode('MPI_Get', Role.Pull),
  fnCode('MPI_Allreduce', Role.Placement),
  0xffffff,
];

/** A batch of n random records (peers, sizes, communicators and epochs drawn wide). */
export function randomBatch(rnd: () => number, seq: number, n: number, P: number): Buffer {
  const { fn, peer, bytes, comm, alg, start, duration, crossMsgs, crossBytes } = batchColumns(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    fn[i] = CODES[Math.floor(rnd() * CODES.length)];
    peer[i] = rnd() < 0.9 ? Math.floor(rnd() * P) : Math.floor(rnd() * 2 ** 31);
    bytes[i] = rnd() < 0.9 ? Math.floor(rnd() * 65536) : Math.floor(rnd() * 2 ** 50);
    comm[i] = rnd() < 0.8 ? Math.floor(rnd() * 3) : Math.floor(rnd() * 2 ** 32);
    alg[i] = Math.floor(rnd() * 3);
    start[i] = t += Math.floor(rnd() * 1e6);
    duration[i] = Math.floor(rnd() * 1e5);
    crossMsgs[i] = Math.floor(rnd() * 2);
    crossBytes[i] = Math.floor(rnd() * 1e4);
  }
  const epoch = rnd() < 0.7 ? 0 : Math.floor(rnd() * (rnd() < 0.5 ? 8 : 2 ** 31));
  return addon.encodeBatch({
    seq,
    dropped: Math.floor(rnd() * 3),
    epoch,
    fn,
    peer,
    bytes,
    comm,
    alg,
    start,
    duration,
    crossMsgs,
    crossBytes,
  });
}

export function withLength(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

const JOBS = [
  { id: 'fz-small', size: 4, key: 'k-small' },
  { id: 'fz-mid', size: 64, key: '' },
  { id: 'fz-big', size: 1024, key: 'k-big' },
  { id: 'fz-one', size: 1, key: '' },
  { id: 'fz-2k', size: 2048, key: 'k-2k' },
];

/** One random stream: what a confused, broken or hostile rank might send. */
export function randomStream(rnd: () => number): Buffer[] {
  const j = JOBS[Math.floor(rnd() * JOBS.length)];
  const rank = Math.floor(rnd() * (j.size + (rnd() < 0.05 ? 4 : 0)));
  const size = rnd() < 0.95 ? j.size : Math.floor(rnd() * 100000);
  const key = rnd() < 0.9 ? j.key : 'wrong';
  const frames: Buffer[] = [];
  if (rnd() < 0.95)
    frames.push(encodeHello({ job: j.id, rank, size, host: `h${rank}`, pid: 1, startNs: 1n, jobKey: key }).subarray(4));
  const n = Math.floor(rnd() * 12);
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const x = rnd();
    if (x < 0.5)
      frames.push(
        randomBatch(
          rnd,
          rnd() < 0.8 ? seq++ : Math.floor(rnd() * 2 ** 31),
          1 + Math.floor(rnd() * 200),
          j.size,
        ).subarray(4),
      );
    else if (x < 0.7) {
      const members = Array.from({ length: Math.min(j.size, 1 + Math.floor(rnd() * 64)) }, (_, k) =>
        rnd() < 0.97 ? k : Math.floor(rnd() * 2 ** 31),
      );
      const localId = rnd() < 0.7 ? Math.floor(rnd() * 3) : Math.floor(rnd() * 2 ** 32);
      frames.push(addon.encodeCommDef({ localId, globalId: Math.floor(rnd() * 100), members }).subarray(4));
    } else if (x < 0.8) {
      const siteOf = Array.from({ length: j.size }, () => Math.floor(rnd() * 3));
      frames.push(encodePlacement({ epoch: Math.floor(rnd() * 5), sites: ['a', 'b', 'c'], siteOf }).subarray(4));
    } else if (x < 0.9)
      frames.push(
        addon
          .encodeBye({ endNs: Math.floor(rnd() * 1e9), records: Math.floor(rnd() * 1e4), dropped: 0, mpiNs: 5 })
          .subarray(4),
      );
    else frames.push(Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256))));
  }
  for (let k = 0; k < frames.length; k++) if (rnd() < 0.15) frames[k] = mutate(frames[k], rnd);
  if (rnd() < 0.1) frames.reverse();
  return frames;
}
