// Which request each Wait completed (issue #13): a real mpirun of 3 ranks whose rank 0 completes
// its requests in the opposite order of posting (Waitany on known and wildcard receives, Waitsome,
// Test polling). The replay's dependencies are right only with the requests the records name (Done
// records; a Wait's or Test's own alg): without them (the rule for older files: a Wait completes the
// oldest request) the replay of the same records deadlocks, and wildcard receives take each other's
// messages.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, Role, ROLE_SHIFT } from '../../src/generated/functions.js';
import { makeCluster, wanLink } from '../../src/replay/cluster.js';
import { replay } from '../../src/replay/engine.js';
import { buildTrace, readRankRecords, type RankRecords } from '../../src/replay/records.js';
import { Op, type Trace } from '../../src/replay/trace.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/shim/programs/wait_order.c');

/** A Wait, Test, Waitany or Testany record: its alg names the request it completed. */
const ONE = new Set(['wait', 'waitany']);
const namesOne = (f: number) => f >>> ROLE_SHIFT === Role.Other && ONE.has(FUNCTIONS[f & 511]?.kind ?? '');

/** The same records as an older shim wrote them: no Done records, no request named in a Wait's alg. */
function withoutDone(ranks: RankRecords[]): RankRecords[] {
  return ranks.map((r) => {
    const keep = r.fn.map((f) => f >>> ROLE_SHIFT !== Role.Done);
    const cols = ['fn', 'peer', 'bytes', 'comm', 'start', 'duration', 'alg', 'tag'] as const;
    const out = { ...r, alg: r.alg.map((a, i) => (namesOne(r.fn[i]) ? 0 : a)) };
    for (const c of cols) if (out[c]) out[c] = out[c]!.filter((_, i) => keep[i]);
    return out;
  });
}

/** The same records as the shim before wrote them: the request a Wait or Test named in a Done record after it. */
function asDoneRecords(ranks: RankRecords[]): RankRecords[] {
  return ranks.map((r) => {
    const out = {
      ...r,
      fn: [],
      peer: [],
      bytes: [],
      comm: [],
      start: [],
      duration: [],
      alg: [],
      tag: [],
    } as RankRecords;
    const add = (
      fn: number,
      peer: number,
      bytes: number,
      comm: number,
      start: number,
      d: number,
      alg: number,
      tag: number,
    ) => {
      out.fn.push(fn);
      out.peer.push(peer);
      out.bytes.push(bytes);
      out.comm.push(comm);
      out.start.push(start);
      out.duration.push(d);
      out.alg.push(alg);
      out.tag!.push(tag);
    };
    for (let i = 0; i < r.fn.length; i++) {
      const named = namesOne(r.fn[i]) && r.alg[i] > 0;
      add(r.fn[i], r.peer[i], r.bytes[i], r.comm[i], r.start[i], r.duration[i], named ? 0 : r.alg[i], r.tag?.[i] ?? 0);
      if (named)
        add((r.fn[i] & 511) | (Role.Done << ROLE_SHIFT), -1, r.alg[i] - 1, 0, r.start[i] + r.duration[i], 0, 0, 0);
    }
    return out;
  });
}

/** Rank 0's operations, in order. */
function ops0(t: Trace): { kind: number; peer: number; bytes: number; i: number }[] {
  const out = [];
  for (let i = t.first[0]; i < t.first[1]; i++) out.push({ kind: t.kind[i], peer: t.peer[i], bytes: t.bytes[i], i });
  return out;
}

describe('request ids under mpirun -np 3', () => {
  it('replays completions in the order the program completed them', async () => {
    const dir = tempDir('wait-order');
    const r = await mpirun({ np: 3, program, env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'wo' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('wait_order ok');
    expect(fs.readdirSync(dir)).toHaveLength(3);
    const ranks = await readRankRecords([dir]);
    const r0 = ranks.find((x) => x.hello.rank === 0)!;

    // Rank 0's requests named (how many it posted after each), in order: A 0 (the receive from 2,
    // posted last), 1; B 0, 1; C the receive from 2 (1 posted after it) and the send (0), then the
    // receive from 1 (2); D 0, 1. Waitsome's in Done records, the others' in their own alg.
    const done = r0.fn.flatMap((f, i) =>
      f >>> ROLE_SHIFT === Role.Done
        ? [[FUNCTIONS[f & 511].name, r0.bytes[i]]]
        : namesOne(f) && r0.alg[i] > 0
          ? [[FUNCTIONS[f & 511].name, r0.alg[i] - 1]]
          : [],
    );
    // only Waitsome writes Done records: a Wait or Test of one request names it in its own record
    const doneRecords = r0.fn.filter((f) => f >>> ROLE_SHIFT === Role.Done).map((f) => FUNCTIONS[f & 511].name);
    expect(new Set(doneRecords)).toEqual(new Set(['MPI_Waitsome']));
    const fnOf = (name: string) => done.filter(([n]) => n === name).map(([, b]) => b);
    expect(fnOf('MPI_Waitany')).toEqual([0, 1, 0, 1]);
    const some = fnOf('MPI_Waitsome');
    expect([...some].sort()).toEqual([0, 1, 2]);
    expect(some.indexOf(2)).toBeGreaterThan(some.indexOf(1));
    expect(fnOf('MPI_Test')).toEqual([0]);
    expect(fnOf('MPI_Wait')).toEqual([1]);
    // the other ranks post nothing: no requests named there
    for (const x of ranks)
      if (x !== r0)
        expect(x.fn.some((f, i) => f >>> ROLE_SHIFT === Role.Done || (namesOne(f) && x.alg[i] > 0))).toBe(false);

    const cluster = makeCluster([0, 0, 1], wanLink(10, 1000), { nodeOf: [0, 1, 2] });
    const trace = buildTrace(ranks);
    const res = replay(trace, cluster);
    expect(res.stalled).toEqual([]);
    for (let i = 0; i < trace.kind.length; i++)
      if ((trace.kind[i] === Op.Irecv || trace.kind[i] === Op.Recv) && trace.match[i] >= 0)
        expect(trace.bytes[i]).toBe(trace.bytes[trace.match[i]]);

    // B: the wildcard receives hold their own messages (posted first: tag 6, 10 ints from 1)
    const irecvs = ops0(trace).filter((o) => o.kind === Op.Irecv && o.bytes > 0); // not the Barriers' steps
    expect(irecvs.map((o) => o.peer)).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    expect(irecvs[3].bytes).toBe(120);
    expect(irecvs[2].bytes).toBe(40);
    // D: the go to rank 1 waits for the message rank 0 polled for (Test), not for compute
    const o = ops0(trace);
    const goD = o.map((x) => x.kind === Op.Send && x.peer === 1).lastIndexOf(true);
    const before = o
      .slice(0, goD)
      .filter((x) => x.kind !== Op.Compute)
      .at(-1)!;
    expect(before.kind).toBe(Op.Wait);
    expect(trace.bytes[before.i] - 1).toBe(irecvs[7].i - trace.first[0]);

    // The same completions written as Done records (the shim before): the same trace, bit for bit
    const asDone = buildTrace(asDoneRecords(ranks));
    for (const c of ['first', 'kind', 'peer', 'bytes', 'chan', 'match'] as const) expect(asDone[c]).toEqual(trace[c]);
    expect(replay(asDone, cluster).wallNs).toBe(res.wallNs);

    // The same records read with the rule for older files: rank 0's first Waitany waits for the
    // receive from rank 1, which waits for the go rank 0 sends after it.
    const old = buildTrace(withoutDone(ranks));
    expect(replay(old, cluster).stalled).toContain(0);
    const oldIrecvs = ops0(old).filter((x) => x.kind === Op.Irecv && x.bytes > 0);
    expect(oldIrecvs.map((x) => x.peer).slice(2, 4)).toEqual([2, 1]); // B's RecvDone records swapped
  }, 60_000);
});
