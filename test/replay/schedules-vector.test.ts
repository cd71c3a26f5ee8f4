// The replay's steps for library-run Allgatherv and the reduce-scatters (src/replay/tuned-vector.ts):
// hand-checked small cases, every send met by a receive, and per pair the same bytes and messages
// as the monitor's matrix expansion of the same calls (native/core/tuned_vector.cpp, through the
// addon), over communicator sizes with and without a power of two and sizes across the rules.
import { describe, expect, it } from 'vitest';
import { TUNED_RULES } from '../../native/shim/gen/tuned_rules.mjs';
import { tunedRule, type TunedFamily } from '../../src/generated/tuned-table.js';
import { expandCollective } from '../../src/native/addon.js';
import { Coll, tunedSteps, type Step } from '../../src/replay/schedules.js';

const sent = (steps: Step[]) => steps.map((s) => [s.to, s.bytes, s.from]);

/** Per pair "src>dst": bytes and messages, from the replay's steps of every rank. */
function fromSteps(coll: number, P: number, m: number) {
  const bytes = new Map<string, number>(),
    msgs = new Map<string, number>(),
    recvs = new Map<string, number>();
  for (let me = 0; me < P; me++)
    for (const st of tunedSteps(coll, P, me, 0, m)) {
      st.to.forEach((d, k) => {
        const key = `${me}>${d}`;
        bytes.set(key, (bytes.get(key) ?? 0) + st.bytes[k]);
        msgs.set(key, (msgs.get(key) ?? 0) + 1);
      });
      for (const f of st.from) recvs.set(`${f}>${me}`, (recvs.get(`${f}>${me}`) ?? 0) + 1);
    }
  return { bytes, msgs, recvs };
}

/** The same from the matrix expansion of every rank's record. */
function fromMatrix(coll: number, P: number, m: number) {
  const bytes = new Map<string, number>(),
    msgs = new Map<string, number>();
  for (let me = 0; me < P; me++) {
    const f = expandCollective(coll, 0, me, 0, P, m);
    for (let k = 0; k < f.src.length; k++) {
      const key = `${f.src[k]}>${f.dst[k]}`;
      bytes.set(key, (bytes.get(key) ?? 0) + f.bytes[k]);
      msgs.set(key, (msgs.get(key) ?? 0) + f.msgs[k]);
    }
  }
  for (const [k, v] of msgs)
    if (!v && !bytes.get(k)) {
      msgs.delete(k);
      bytes.delete(k);
    }
  return { bytes, msgs };
}

const sorted = (m: Map<string, number>) => [...m.entries()].filter(([, v]) => v).sort();

describe('replay schedules: Allgatherv and the reduce-scatters', () => {
  it('4 ranks: butterfly, recursive halving and doubling, as Open MPI sends them', () => {
    const rsb = (m: number, me: number) => sent(tunedSteps(Coll.ReduceScatterBlock, 4, me, 0, m));
    const name = (m: number) => TUNED_RULES.reduceScatterBlock.algs[tunedRule('reduceScatterBlock', 4, m) - 1];
    expect([100, 1000, 8].map(name)).toEqual(['butterfly', 'recursive_halving', 'recursive_doubling']);
    // butterfly (100 B): the nearest partner first, half the vector then a block
    expect(rsb(100, 0)).toEqual([
      [[1], [200], [1]],
      [[2], [100], [2]],
    ]);
    // recursive halving (1000 B): the farthest partner first
    expect(rsb(1000, 1)).toEqual([
      [[3], [2000], [3]],
      [[0], [1000], [0]],
    ]);
    // recursive doubling (8 B): every block outside the own subtree, 3 then 2
    expect(rsb(8, 2)).toEqual([
      [[3], [24], [3]],
      [[0], [16], [0]],
    ]);
  });

  it('5 ranks: ranks 0 and 1 fold in first and 0 gets its block back from 1 at the end', () => {
    const steps = (me: number) => sent(tunedSteps(Coll.ReduceScatterBlock, 5, me, 0, 4));
    expect(steps(0)).toEqual([
      [[1], [20], []],
      [[], [], [1]],
    ]);
    expect(steps(1)[0]).toEqual([[], [], [0]]);
    expect(steps(1).at(-1)).toEqual([[0], [4], []]);
  });

  it('Allgatherv at 6 ranks, 1000 B: neighbour exchange (one block, then pairs alternately)', () => {
    expect(sent(tunedSteps(Coll.Allgatherv, 6, 3, 0, 1000))).toEqual([
      [[2], [1000], [2]],
      [[4], [2000], [4]],
      [[2], [2000], [2]],
    ]);
  });

  it('per pair the same bytes and messages as the matrix expansion, and a receive for every send', () => {
    // (Bcast, Reduce and Scatter too, from root 0: the trees the others use)
    // (Reduce_scatter: the whole vector, split unevenly where P does not divide it)
    const sizes = [1, 4, 8, 16, 40, 100, 203, 600, 1000, 5000, 10000, 20000, 70001, 300000];
    const families = new Map<number, TunedFamily>([
      [Coll.ReduceScatterBlock, 'reduceScatterBlock'],
      [Coll.ReduceScatter, 'reduceScatter'],
      [Coll.Allgatherv, 'allgatherv'],
      // the trees the v-variants and the reduce-scatters build on
      [Coll.Bcast, 'bcast'],
      [Coll.Reduce, 'reduce'],
      [Coll.Scatter, 'scatter'],
    ]);
    for (const [coll, family] of families)
      for (let P = 2; P <= 13; P++)
        for (const m of sizes) {
          const s = fromSteps(coll, P, m);
          const x = fromMatrix(coll, P, m);
          const what = `${family} P=${P} m=${m}`;
          expect(sorted(s.msgs), what).toEqual(sorted(s.recvs));
          expect(sorted(s.bytes), what).toEqual(sorted(x.bytes));
          expect(sorted(s.msgs), what).toEqual(sorted(x.msgs));
        }
  });
});
