// Monitor ingest benchmark: records per second decoded, and decoded + aggregated, on one core,
// for realistic batches of 4096 records produced by the shim's own encoder (the addon); plus the
// protobufjs reflection decoder for comparison, memory per job, and the memory of a 16 384-rank
// job (3-D 7-point stencil and collectives) held sparsely.
//
//   npx tsc -p tsconfig.json && node --expose-gc dist/bench/ingest.js [--json] [--seconds 2] [--batches 16] [--stencil-ranks 16384]
// (--batches: batches per rank in the ingested stream; fewer only to make a quick run start sooner;
// --stencil-ranks 0 leaves the large job out)
import { Role } from '../src/generated/functions.js';
import { JobTable } from '../src/monitor/ingest.js';
import { addon } from '../src/native/addon.js';
import { FrameDecoder } from '../src/wire/frames.js';
import { BatchScratch, decodeEnvelope, type Batch } from '../src/wire/messages.js';
import { messageType, PROTOCOL_VERSION } from '../src/wire/proto.js';
import { arg } from './args.js';
import { batchColumns, fnCode as code, rng } from './records.js';

const json = process.argv.includes('--json');
const seconds = Number(arg('--seconds', '2')) || 2;
const batches = Math.max(1, Math.floor(Number(arg('--batches', '16')) || 16));
const stencilRanks = Math.max(0, Math.floor(Number(arg('--stencil-ranks', '16384')) || 0));

/** A stencil-like mix: halo Isend/Irecv to neighbours, Waitall, Allreduce, some Bcast/Alltoallv parts. */
function makeBatch(rank: number, P: number, seq: number, n: number, rnd: () => number): Buffer {
  const { fn, peer, bytes, comm, alg, start, duration } = batchColumns(n);
  let t = seq * 1e7;
  for (let i = 0; i < n; i++) {
    const x = rnd();
    t += Math.floor(200 + rnd() * 2000);
    start[i] = t;
    duration[i] = Math.floor(50 + rnd() * 500);
    peer[i] = -1;
    if (x < 0.3) {
      fn[i] = code('MPI_Isend', Role.Send);
      peer[i] = (rank + (rnd() < 0.5 ? 1 : P - 1)) % P;
      bytes[i] = 8 << Math.floor(rnd() * 14);
    } else if (x < 0.6) {
      fn[i] = code('MPI_Irecv', Role.Recv);
      peer[i] = (rank + (rnd() < 0.5 ? 1 : P - 1)) % P;
      bytes[i] = 8 << Math.floor(rnd() * 14);
    } else if (x < 0.8) {
      fn[i] = code('MPI_Waitall', Role.Other);
      duration[i] = Math.floor(rnd() * 20000);
    } else if (x < 0.88) {
      fn[i] = code('MPI_Allreduce', Role.Coll);
      bytes[i] = 8;
    } else if (x < 0.9) {
      fn[i] = code('MPI_Bcast', Role.Coll);
      peer[i] = 0;
      bytes[i] = 4096;
    } else if (x < 0.95) {
      fn[i] = code('MPI_Alltoallv', Role.PartSend);
      peer[i] = Math.floor(rnd() * P);
      bytes[i] = 1024;
    } else {
      fn[i] = code('MPI_Wait', Role.RecvDone);
      peer[i] = Math.floor(rnd() * P);
      bytes[i] = 64;
    }
  }
  return addon.encodeBatch({ seq, dropped: 0, epoch: 0, fn, peer, bytes, comm, alg, start, duration });
}

const P = 64,
  BATCHES = batches,
  N = 4096;
const rnd = rng(7);
const hellos: Buffer[] = [],
  comms: Buffer[] = [],
  streams: Buffer[] = [];
const bodies: Buffer[] = [];
for (let r = 0; r < P; r++) {
  hellos.push(
    addon.encodeHello({ job: 'bench', rank: r, size: P, startNs: 1, host: 'h', pid: r, token: '', program: 'bench' }),
  );
  comms.push(addon.encodeCommDef({ localId: 0, globalId: 1, members: Array.from({ length: P }, (_, i) => i) }));
  const frames: Buffer[] = [];
  for (let b = 0; b < BATCHES; b++) frames.push(makeBatch(r, P, b, N, rnd));
  bodies.push(...frames.map((f) => f.subarray(4)));
  streams.push(Buffer.concat(frames));
}
const recordsPerPass = P * BATCHES * N;
const bytesPerPass = streams.reduce((s, b) => s + b.length, 0);

function timeIt(
  label: string,
  pass: () => void,
  recs: number,
  minSeconds = seconds,
): { label: string; recordsPerSecond: number; passes: number } {
  pass(); // warm up
  let passes = 0;
  const t0 = process.hrtime.bigint();
  let el = 0;
  do {
    pass();
    passes++;
    el = Number(process.hrtime.bigint() - t0) / 1e9;
  } while (el < minSeconds);
  return { label, recordsPerSecond: (recs * passes) / el, passes };
}

const scratch = new BatchScratch();
let sink = 0;
const decodeOnly = timeIt(
  'decode only (typed-array columns)',
  () => {
    for (const b of bodies) {
      const e = decodeEnvelope(b, scratch);
      if (e.kind === 'batch') sink += e.batch.n;
    }
  },
  recordsPerPass,
);

function ingestPass(): void {
  const table = new JobTable();
  for (let r = 0; r < P; r++) {
    const s = table.session();
    s.frame(hellos[r].subarray(4));
    s.frame(comms[r].subarray(4));
    const dec = new FrameDecoder();
    const st = streams[r];
    for (let off = 0; off < st.length; off += 65536)
      for (const f of dec.push(st.subarray(off, off + 65536))) s.frame(f);
    s.close();
  }
  const job = table.jobs.get('bench')!;
  sink += job.records;
}
const ingest = timeIt('framing + decode + aggregate', ingestPass, recordsPerPass);

const Env = messageType('Envelope');
const reflection = timeIt(
  'protobufjs reflection decode (for comparison)',
  () => {
    for (let i = 0; i < 64; i++)
      sink += (Env.decode(bodies[i]) as unknown as { batch: { fn: number[] } }).batch.fn.length;
  },
  64 * N,
  Math.min(1, seconds),
);

// Query cost (collective expansion + dense matrix, then as pairs) of the ingested job.
const table = new JobTable();
for (let r = 0; r < P; r++) {
  const s = table.session();
  s.frame(hellos[r].subarray(4));
  s.frame(comms[r].subarray(4));
  for (const f of new FrameDecoder().push(streams[r])) s.frame(f);
}
const job = table.jobs.get('bench')!;
const q0 = process.hrtime.bigint();
const m = job.matrix();
const queryMs = Number(process.hrtime.bigint() - q0) / 1e6;
sink += m.bytes.num(1);
job.version++; // the expansion again, for the sparse query
const q1 = process.hrtime.bigint();
sink += job.pairMatrix().pairCount;
const pairQueryMs = Number(process.hrtime.bigint() - q1) / 1e6;

// Memory per job: jobs of P ranks, each after one batch per rank.
const gc = (globalThis as { gc?: () => void }).gc;
function memoryPerJob(ranks: number, jobs: number): number {
  gc?.();
  const before = process.memoryUsage();
  const t = new JobTable();
  const frame = makeBatch(0, ranks, 0, N, rng(3));
  for (let j = 0; j < jobs; j++) {
    for (let r = 0; r < ranks; r++) {
      const s = t.session();
      s.frame(addon.encodeHello({ job: `j${j}`, rank: r, size: ranks, startNs: 1 }).subarray(4));
      s.frame(comms[0].subarray(4));
      s.frame(frame.subarray(4));
    }
  }
  gc?.();
  const after = process.memoryUsage();
  const used = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  sink += t.jobs.size;
  return used / jobs;
}
const mem64 = memoryPerJob(64, 20);
const mem1024 = memoryPerJob(1024, 2);

/**
 * Memory of one job of `ranks` ranks on a 3-D grid (7-point stencil: 4 halo exchanges with each
 * neighbour), each rank also making 6 Allreduce and 1 Bcast calls on MPI_COMM_WORLD; measured
 * after the matrix was asked for (collectives expanded). Sessions take decoded messages: the
 * world CommDef of `ranks` members is decoded once, not once per rank.
 */
function stencilJobMemory(ranks: number): { ranks: number; pairs: number; bytes: number; seconds: number } {
  const X = 2 ** Math.ceil(Math.log2(ranks) / 3),
    Y = 2 ** Math.ceil(Math.log2(ranks / X) / 2),
    Z = Math.ceil(ranks / (X * Y));
  const world = decodeEnvelope(
    addon.encodeCommDef({ localId: 0, globalId: 1, members: Array.from({ length: ranks }, (_, i) => i) }).subarray(4),
  );
  const cols = batchColumns(32);
  const b: Batch = { seq: 0, dropped: 0, epoch: 0, n: 0, inexact: false, ...cols };
  const put = (fn: number, peer: number, bytes: number) => {
    const i = b.n++;
    b.fn[i] = fn;
    b.peer[i] = peer;
    b.bytes[i] = bytes;
    b.start[i] = i * 1000;
    b.duration[i] = 500;
  };
  const send = code('MPI_Isend', Role.Send),
    allreduce = code('MPI_Allreduce', Role.Coll),
    bcast = code('MPI_Bcast', Role.Coll);
  gc?.();
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  const t = new JobTable({ maxRanks: ranks });
  for (let r = 0; r < ranks; r++) {
    const x = r % X,
      y = Math.floor(r / X) % Y,
      z = Math.floor(r / (X * Y));
    b.n = 0;
    for (let it = 0; it < 4; it++)
      for (const [ok, peer] of [
        [x > 0, r - 1],
        [x < X - 1 && r + 1 < ranks, r + 1],
        [y > 0, r - X],
        [y < Y - 1 && r + X < ranks, r + X],
        [z > 0, r - X * Y],
        [z < Z - 1 && r + X * Y < ranks, r + X * Y],
      ] as const)
        if (ok) put(send, peer, 8192);
    for (let k = 0; k < 6; k++) put(allreduce, -1, 8);
    put(bcast, 0, 65536);
    const s = t.session();
    s.apply({
      kind: 'hello',
      hello: {
        protocol: PROTOCOL_VERSION,
        job: 'stencil',
        rank: r,
        size: ranks,
        host: 'h',
        pid: r,
        startNs: 1n,
        token: '',
        program: 'stencil',
        jobKey: '',
      },
    });
    s.apply(world);
    s.apply({ kind: 'batch', batch: b });
  }
  const j = t.jobs.get('stencil')!;
  const pairs = j.pairMatrix().pairCount;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  gc?.();
  const after = process.memoryUsage();
  sink += j.records;
  return {
    ranks,
    pairs,
    bytes: after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers),
    seconds,
  };
}
const stencil = stencilRanks > 0 ? stencilJobMemory(stencilRanks) : null;

const result = {
  node: process.version,
  batchRecords: N,
  batchesPerRank: BATCHES,
  ranks: P,
  frameBytesPerRecord: bytesPerPass / recordsPerPass,
  decodeOnlyRecordsPerSecond: decodeOnly.recordsPerSecond,
  ingestRecordsPerSecond: ingest.recordsPerSecond,
  reflectionDecodeRecordsPerSecond: reflection.recordsPerSecond,
  matrixQueryMs: queryMs,
  pairMatrixQueryMs: pairQueryMs,
  stencilJob: stencil,
  memoryPerJobBytes: { ranks64: mem64, ranks1024: mem1024, gcExposed: gc !== undefined },
  goalRecordsPerSecond: 5e6,
  meetsGoal: ingest.recordsPerSecond >= 5e6,
};
if (json) {
  console.log(JSON.stringify(result));
} else {
  const f = (x: number) => `${(x / 1e6).toFixed(2)} M records/s`;
  console.log(
    `monitor ingest, one core, ${P} ranks x ${BATCHES} batches x ${N} records (${result.frameBytesPerRecord.toFixed(2)} wire bytes/record), node ${process.version}`,
  );
  console.log(`  ${decodeOnly.label.padEnd(48)} ${f(decodeOnly.recordsPerSecond)}`);
  console.log(
    `  ${ingest.label.padEnd(48)} ${f(ingest.recordsPerSecond)}   (goal >= 5 M/s: ${result.meetsGoal ? 'met' : 'NOT met'})`,
  );
  console.log(`  ${reflection.label.padEnd(48)} ${f(reflection.recordsPerSecond)}`);
  console.log(`  matrix query (collective expansion, ${P}x${P})     ${queryMs.toFixed(2)} ms`);
  console.log(`  pair matrix query (collective expansion, pairs)  ${pairQueryMs.toFixed(2)} ms`);
  console.log(
    `  memory per job: ${(mem64 / 1024).toFixed(0)} KiB at 64 ranks, ${(mem1024 / 1048576).toFixed(1)} MiB at 1024 ranks${gc ? '' : ' (run with --expose-gc for stable figures)'}`,
  );
  if (stencil)
    console.log(
      `  ${stencil.ranks}-rank stencil job + collectives: ${(stencil.bytes / 1048576).toFixed(0)} MiB for ${stencil.pairs} pairs (dense matrices: ${((stencil.ranks ** 2 * 32) / 2 ** 30).toFixed(1)} GiB), built and expanded in ${stencil.seconds.toFixed(1)} s`,
    );
}
if (sink === -1) console.log(sink);
