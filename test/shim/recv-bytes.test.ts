// Receive bytes as received (issue #13): every kind of receive request, posted for more than
// arrives and mostly with its status ignored, counts in the function table what was sent; the
// records carry tags, so that the replay matches two tags of one pair received in the opposite
// order of sending; a receive posted for exactly what arrives, from a known source with a known
// tag, costs no completion record. One real mpirun of 3 ranks, read back from its rank files.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecvMark } from '../../src/generated/facts.js';
import { FUNCTIONS, Role, ROLE_SHIFT } from '../../src/generated/functions.js';
import { Op } from '../../src/replay/trace.js';
import { buildTrace, readRankRecords } from '../../src/replay/records.js';
import { packageRoot } from '../../src/native/paths.js';
import { compileMpi, mpirun, run, tempDir } from '../helpers/mpi.js';

const cli = path.join(packageRoot, 'bin', 'sitempi.js');
const program = compileMpi('test/shim/programs/recv_bytes.c');

interface Report {
  jobs: { functions: { name: string; count: number; bytes: number }[] }[];
}

describe('receive bytes and tags under mpirun -np 3', () => {
  it('counts what arrived in every receive row, and matches messages by tag', async () => {
    const dir = tempDir('recv-bytes');
    const r = await mpirun({ np: 3, program, env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'rb' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('recv_bytes ok');
    const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
    expect(files).toHaveLength(3);

    const rep = await run('node', [cli, 'report', '--json', ...files]);
    expect(rep.code, rep.stderr).toBe(0);
    const fns = (JSON.parse(rep.stdout) as Report).jobs[0].functions;
    const row = (name: string) => fns.find((f) => f.name === name) ?? { count: 0, bytes: 0 };
    const ints = (n: number) => 4 * n;
    // every receive was posted for 1000 ints (4000 for tags 11 and 12): rows hold what arrived
    expect(row('MPI_Irecv')).toMatchObject({ count: 8, bytes: ints(10 + 20 + 30 + 40 + 80 + 90 + 100 + 2000) });
    expect(row('MPI_Mrecv')).toMatchObject({ count: 1, bytes: ints(50) });
    expect(row('MPI_Imrecv')).toMatchObject({ count: 1, bytes: ints(60) });
    expect(row('MPI_Recv_init')).toMatchObject({ count: 1, bytes: ints(3 * 70) });
    expect(row('MPI_Recv')).toMatchObject({ count: 1, bytes: ints(2) });
    expect(row('MPI_Sendrecv')).toMatchObject({ count: 2, bytes: ints(5 + 5) }); // its row: what it sent
    const sent = row('MPI_Send').bytes + row('MPI_Isend').bytes;
    const received = ['MPI_Irecv', 'MPI_Mrecv', 'MPI_Imrecv', 'MPI_Recv_init', 'MPI_Recv'].reduce(
      (s, n) => s + row(n).bytes,
      0,
    );
    expect(sent).toBe(ints(10 + 20 + 30 + 40 + 50 + 60 + 3 * 70 + 80 + 90 + 100 + 2 + 2000));
    expect(received).toBe(sent);

    // The replay's trace: every receive it matches meets a send of the bytes it received, the
    // receive halves of both Sendrecvs included (their source and bytes from RecvDone records).
    const ranks = await readRankRecords([dir]);

    // Rank 0's Irecvs: those of a known source and tag recorded at posting with the posted size, a
    // completion record only for the 5 that got fewer bytes (not for scenario 8's) and for the 2
    // from MPI_ANY_SOURCE.
    const r0 = ranks.find((rr) => rr.hello.rank === 0)!;
    const irecv = FUNCTIONS.findIndex((f) => f.name === 'MPI_Irecv');
    const of = (role: number, alg?: number) =>
      r0.fn.filter((fn, i) => fn === (irecv | (role << ROLE_SHIFT)) && (alg === undefined || r0.alg[i] === alg)).length;
    expect(of(Role.Recv, RecvMark.Posted)).toBe(6);
    expect(of(Role.Other)).toBe(2);
    expect(of(Role.RecvDone, RecvMark.Short)).toBe(5);
    expect(of(Role.RecvDone)).toBe(7);

    const trace = buildTrace(ranks);
    const received0: number[] = [];
    let matched = 0;
    for (let i = 0; i < trace.kind.length; i++) {
      if (trace.kind[i] !== Op.Recv && trace.kind[i] !== Op.Irecv) continue;
      if (trace.match[i] < 0) continue;
      matched++;
      expect(trace.bytes[i]).toBe(trace.bytes[trace.match[i]]);
      if (i < trace.first[1]) received0.push(trace.bytes[i]);
    }
    // rank 0: scenarios 1, 2, 5 (two each), 6, 8 and 7 (two); rank 1: its Sendrecv's receive
    expect(matched).toBe(11);
    // tags 12 then 11, sent 11 then 12: each receive met its own message
    expect(received0.slice(-2)).toEqual([ints(2000), ints(2)]);

    // Without the tag column (files of older shims) messages pair in send order per pair: the
    // sends to receives the replay leaves out (Mrecv, persistent) and the tags 11/12 mismatch.
    for (const rr of ranks) rr.tag = undefined;
    const untagged = buildTrace(ranks);
    let wrong = 0;
    for (let i = 0; i < untagged.kind.length; i++)
      if ((untagged.kind[i] === Op.Recv || untagged.kind[i] === Op.Irecv) && untagged.match[i] >= 0)
        wrong += +(untagged.bytes[i] !== untagged.bytes[untagged.match[i]]);
    expect(wrong).toBeGreaterThan(0);
  }, 120_000);
});
