// The replay's steps for non-blocking collectives (src/replay/nbc.ts, libnbc's schedules): small
// cases by hand, every send met by a receive, and per pair the same bytes and messages as the
// monitor's matrix expansion of the same calls (native/core/nbc.cpp, through the addon), over
// communicator sizes with and without a power of two, sizes across libnbc's rules and several roots.
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, Role, ROLE_SHIFT } from '../../src/generated/functions.js';
import { expandCollective } from '../../src/native/addon.js';
import { NbcAlg, nbcAllreduceAlg, nbcReduceAlg, nbcSteps } from '../../src/replay/nbc.js';
import { buildTrace, type RankRecords } from '../../src/replay/records.js';
import { Coll, type Step } from '../../src/replay/schedules.js';
import { Op } from '../../src/replay/trace.js';

const sent = (steps: Step[]) => steps.map((s) => [s.to, s.bytes, s.from]);

/** Per pair "src>dst": bytes and messages of every rank's steps, and the receives posted. */
function fromSteps(coll: number, P: number, m: number, root: number) {
  const bytes = new Map<string, number>(),
    msgs = new Map<string, number>(),
    recvs = new Map<string, number>();
  const add = (map: Map<string, number>, k: string, v: number) => map.set(k, (map.get(k) ?? 0) + v);
  for (let me = 0; me < P; me++)
    for (const st of nbcSteps(coll, P, me, root, m)) {
      st.to.forEach((d, k) => {
        add(bytes, `${me}>${d}`, st.bytes[k]);
        add(msgs, `${me}>${d}`, 1);
      });
      for (const f of st.from) add(recvs, `${f}>${me}`, 1);
    }
  return { bytes, msgs, recvs };
}

/** The same from the matrix: every rank's record expanded as non-blocking (plus Reduce_scatter's parts). */
function fromMatrix(coll: number, P: number, m: number, root: number) {
  const bytes = new Map<string, number>(),
    msgs = new Map<string, number>();
  const add = (k: string, b: number, n: number) => {
    bytes.set(k, (bytes.get(k) ?? 0) + b);
    msgs.set(k, (msgs.get(k) ?? 0) + n);
  };
  for (let me = 0; me < P; me++) {
    const f = expandCollective(coll, 0, me, root, P, m, undefined, { nonBlocking: true });
    for (let k = 0; k < f.src.length; k++) add(`${f.src[k]}>${f.dst[k]}`, f.bytes[k], f.msgs[k]);
    // an MPI_Ireduce_scatter record's block arrives as its own part record (PartPull from 0)
    if (coll === Coll.ReduceScatter && me && m) add(`0>${me}`, Math.floor(m / P) + (me < m % P ? 1 : 0), 1);
  }
  return { bytes, msgs };
}

const sorted = (m: Map<string, number>) => [...m.entries()].filter(([, v]) => v).sort();

describe('replay schedules: non-blocking collectives as libnbc runs them', () => {
  it('Ibcast from 2 on 6 ranks: the binomial tree with 0 and the root swapped', () => {
    expect(sent(nbcSteps(Coll.Bcast, 6, 2, 2, 100))).toEqual([[[1, 0, 4], [100, 100, 100], []]]);
    expect(sent(nbcSteps(Coll.Bcast, 6, 1, 2, 100))).toEqual([
      [[], [], [2]],
      [[3, 5], [100, 100], []],
    ]);
    // up to 4 ranks: linear
    expect(sent(nbcSteps(Coll.Bcast, 4, 3, 1, 100))).toEqual([[[], [], [1]]]);
  });

  it('Ireduce of 128 KiB on 2 ranks: the chain in 16 fragments of 8 KiB', () => {
    expect(nbcReduceAlg(2, 131072)).toBe(NbcAlg.Chain);
    const s = nbcSteps(Coll.Reduce, 2, 1, 0, 131072);
    expect(s).toHaveLength(16);
    expect(s.every((x) => x.to[0] === 0 && x.bytes[0] === 8192)).toBe(true);
  });

  it('Iallreduce on 4 ranks: binomial under 64 KiB, Rabenseifner (nearest partner first) from it', () => {
    expect(nbcAllreduceAlg(4, 65528)).toBe(NbcAlg.Binomial);
    expect(nbcAllreduceAlg(4, 65536)).toBe(NbcAlg.Rabenseifner);
    expect(sent(nbcSteps(Coll.Allreduce, 4, 3, -1, 8))).toEqual([
      [[2], [8], []],
      [[], [], [1]],
    ]);
    expect(sent(nbcSteps(Coll.Allreduce, 4, 1, -1, 65536))).toEqual([
      [[0], [32768], [0]],
      [[3], [16384], [3]],
      [[3], [16384], [3]],
      [[0], [32768], [0]],
    ]);
  });

  it('per pair the same bytes and messages as the matrix expansion, and a receive for every send', () => {
    const sizes = [0, 1, 8, 100, 65528, 65536, 70000, 400000];
    const families = [
      Coll.Barrier,
      Coll.Bcast,
      Coll.Reduce,
      Coll.Allreduce,
      Coll.Gather,
      Coll.Gatherv,
      Coll.Scatter,
      Coll.Scatterv,
      Coll.Allgather,
      Coll.Allgatherv,
      Coll.Alltoall,
      Coll.ReduceScatterBlock,
      Coll.ReduceScatter,
      Coll.Scan,
      Coll.Exscan,
    ];
    for (const coll of families)
      for (let P = 2; P <= 13; P++)
        for (const m of sizes)
          for (const root of [0, 1, 2, P - 1].filter((r, i, a) => r < P && a.indexOf(r) === i)) {
            const s = fromSteps(coll, P, m, root);
            const x = fromMatrix(coll, P, m, root);
            const what = `coll ${coll} P=${P} m=${m} root=${root}`;
            expect(sorted(s.msgs), what).toEqual(sorted(s.recvs));
            expect(sorted(s.bytes), what).toEqual(sorted(x.bytes));
            expect(sorted(s.msgs), what).toEqual(sorted(x.msgs));
          }
  });

  it('a trace replays an MPI_Iallreduce record with libnbc’s schedule, an MPI_Allreduce one with coll/tuned’s', () => {
    // 8 B on 4 ranks: libnbc's binomial trees (rank 3 sends only to 2), coll/tuned's recursive doubling (to 2 and 1)
    const peersOf3 = (name: string): number[] => {
      const fn = FUNCTIONS.find((f) => f.name === name)!.id | (Role.Coll << ROLE_SHIFT);
      const ranks: RankRecords[] = Array.from({ length: 4 }, (_, rank) => ({
        hello: {
          protocol: 1,
          job: 'j',
          rank,
          size: 4,
          host: 'h',
          pid: 1,
          startNs: 0n,
          token: '',
          program: '',
          jobKey: '',
        },
        ...{ fn: [fn], peer: [-1], bytes: [8], comm: [0], start: [10], duration: [5], alg: [0] },
        comms: new Map([[0, { key: '0:0,1,2,3|', members: [0, 1, 2, 3] }]]),
      }));
      const t = buildTrace(ranks);
      const peers: number[] = [];
      for (let i = t.first[3]; i < t.first[4]; i++) if (t.kind[i] === Op.Isend) peers.push(t.peer[i]);
      return peers.sort();
    };
    expect(peersOf3('MPI_Iallreduce')).toEqual([2]);
    expect(peersOf3('MPI_Allreduce')).toEqual([1, 2]);
  });
});
