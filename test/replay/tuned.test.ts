// coll/tuned's fixed decision rules, written once in native/shim/gen/tuned_rules.mjs and generated
// for the replay (src/generated/tuned-table.ts) and the native cost model (tuned_table.h, whose
// expansions native/core/tests/tuned_test.cpp checks): well-formed rows and Open MPI 4.1's choices.
import { describe, expect, it } from 'vitest';
import { TUNED_RULES } from '../../native/shim/gen/tuned_rules.mjs';
import { BcastAlg, tunedRule, type TunedFamily } from '../../src/generated/tuned-table.js';
import { Coll, tunedSteps } from '../../src/replay/schedules.js';

describe('coll/tuned rules', () => {
  it('rows go up in communicator size and bytes, and name algorithms that exist', () => {
    for (const [family, { algs, rows }] of Object.entries(TUNED_RULES)) {
      rows.forEach(([below, cuts, alg], i) => {
        if (i < rows.length - 1) expect(below, family).toBeGreaterThan(i ? rows[i - 1][0] : 2);
        else expect(below, `${family}: the last row holds for every larger size`).toBe(0);
        for (let k = 1; k < cuts.length; k++) expect(cuts[k][0], family).toBeGreaterThan(cuts[k - 1][0]);
        for (const a of [alg, ...cuts.map((c) => c[1])]) expect(a >= 1 && a <= algs.length, family).toBe(true);
      });
    }
  });

  it("picks Open MPI 4.1's algorithms at the rows' edges", () => {
    const cases: [TunedFamily, number, number, string][] = [
      ['bcast', 4, 4095, 'binomial'],
      ['bcast', 4, 8192, 'basic_linear'],
      ['bcast', 4, 1 << 20, 'chain'],
      ['bcast', 8, 1000, 'knomial'],
      ['bcast', 2000, 1 << 20, 'scatter_allgather'],
      ['reduce', 4, 20000, 'chain'],
      ['reduce', 300, 10000, 'in-order_binary'],
      ['allreduce', 64, 1024, 'recursive_doubling'],
      ['allreduce', 200, 1000, 'nonoverlapping'],
      ['allgather', 2, 1 << 20, 'two_proc'],
      ['allgather', 40, 2048, 'neighbor'],
      ['alltoall', 12, 100, 'linear_sync'],
      ['alltoall', 12, 300000, 'linear'],
      ['alltoall', 20, 100, 'modified_bruck'],
      ['barrier', 5, 0, 'linear'],
      ['barrier', 300, 0, 'tree'],
      ['gather', 8, 1 << 20, 'binomial'],
      ['scatter', 40, 9000, 'binomial'],
    ];
    for (const [family, P, bytes, name] of cases)
      expect(TUNED_RULES[family].algs[tunedRule(family, P, bytes) - 1], `${family} ${P} ${bytes}`).toBe(name);
  });

  it('the replay runs the chosen tree: a 4-rank 1 MiB bcast is one chain, 100 kB linear', () => {
    expect(tunedRule('bcast', 4, 1 << 20)).toBe(BcastAlg.Chain);
    const to = (bytes: number, me: number): number[] => tunedSteps(Coll.Bcast, 4, me, 0, bytes).flatMap((s) => s.to);
    expect([0, 1, 2, 3].map((me) => to(1 << 20, me))).toEqual([[1], [2], [3], []]);
    expect(to(100_000, 0)).toEqual([1, 2, 3]);
  });

  it('gather and scatter at 8 ranks are binomial: each edge carries the blocks of its subtree', () => {
    const m = 100;
    const sent = (coll: number, me: number) =>
      tunedSteps(coll, 8, me, 0, m).flatMap((s) => s.to.map((d, k) => [d, s.bytes[k]]));
    // scatter: 0 -> 4 (4 blocks: 4-7), 2 (2: 2-3), 1 (1); 4 -> 6 (2), 5 (1); 6 -> 7
    expect(sent(Coll.Scatter, 0)).toEqual([
      [4, 4 * m],
      [2, 2 * m],
      [1, m],
    ]);
    expect(sent(Coll.Scatter, 4)).toEqual([
      [6, 2 * m],
      [5, m],
    ]);
    expect(sent(Coll.Gather, 6)).toEqual([[4, 2 * m]]);
    const all = [1, 2, 3, 4, 5, 6, 7].flatMap((me) => sent(Coll.Gather, me)).map(([, b]) => b);
    expect(all.reduce((a, b) => a + b)).toBe(12 * m); // subtrees of 4, 2, 2 and four of 1
    // 4 ranks, 5000 B: linear
    expect(tunedSteps(Coll.Gather, 4, 3, 0, 5000).map((s) => [s.to, s.bytes])).toEqual([[[0], [5000]]]);
  });
});
