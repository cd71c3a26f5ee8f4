// Open MPI 4.1's coll/tuned fixed decision rules (ompi/mca/coll/tuned/coll_tuned_decision_fixed.c,
// v4.1.8), written once here: generate.mjs writes them into build/generated/tuned_table.h (the
// native cost model, native/core/tuned.cpp) and src/generated/tuned-table.ts (the replay,
// src/replay/schedules.ts). The records carry no reduction operator: the branches for commutative
// operations (MPI_SUM and the like).
//
// Per family: `bytes`, what the rules compare (total_dsize or per_rank_dsize in Open MPI); `algs`,
// the algorithm names in Open MPI's numbering from 1 (coll_tuned_<family>_algorithm); `rows`,
// [communicator size below, [[bytes below, algorithm], ...], algorithm otherwise], the first row
// whose size bound the communicator is below, the last row (0) for every larger one. Open MPI's
// `communicator_size == 2` is written as below 3 (a collective on one rank sends nothing).

// prettier-ignore
export const TUNED_RULES = {
  allreduce: {
    bytes: 'the buffer (count x type size)',
    algs: ['basic_linear', 'nonoverlapping', 'recursive_doubling', 'ring', 'segmented_ring', 'rabenseifner'],
    rows: [
      [4, [[8, 4], [4096, 3], [8192, 4], [16384, 3], [65536, 4], [262144, 5]], 6],
      [8, [[16, 4], [8192, 3]], 6],
      [16, [[8192, 3]], 6],
      [32, [[64, 5], [4096, 3]], 6],
      [64, [[128, 5]], 6],
      [128, [[262144, 3]], 6],
      [256, [[131072, 2], [262144, 3]], 6],
      [512, [[4096, 2]], 6],
      [2048, [[2048, 2], [16384, 3]], 6],
      [4096, [[2048, 2], [4096, 5], [16384, 3]], 6],
      [0, [[2048, 2], [16384, 5], [32768, 3]], 6],
    ],
  },
  alltoall: {
    bytes: 'the block to one peer',
    algs: ['linear', 'pairwise', 'modified_bruck', 'linear_sync', 'two_proc'],
    rows: [
      [3, [[2, 2], [4, 5], [16, 2], [64, 5], [256, 2], [4096, 5], [32768, 2], [262144, 4], [1048576, 5]], 2],
      [8, [[8192, 4], [16384, 1], [65536, 4], [524288, 1], [1048576, 2]], 1],
      [16, [[262144, 4]], 1],
      [32, [[4, 4], [512, 3], [8192, 4], [32768, 1], [262144, 4], [524288, 1]], 4],
      [64, [[512, 3], [524288, 1]], 4],
      [128, [[1024, 3], [2048, 1], [4096, 4], [262144, 1]], 2],
      [256, [[1024, 3], [2048, 4], [262144, 1]], 2],
      [512, [[1024, 3], [8192, 4], [32768, 1]], 2],
      [1024, [[512, 3], [8192, 4], [16384, 1], [131072, 4], [262144, 1]], 2],
      [2048, [[512, 3], [1024, 4], [2048, 1], [16384, 4], [262144, 1]], 4],
      [4096, [[1024, 3], [4096, 4], [8192, 1], [131072, 4]], 1],
      [0, [[2048, 3], [8192, 4], [16384, 1], [32768, 4], [65536, 1]], 4],
    ],
  },
  alltoallv: {
    bytes: 'the communicator size only',
    algs: ['basic_linear', 'pairwise'],
    rows: [
      [4, [], 2],
      [64, [], 1],
      [128, [], 2],
      [256, [], 1],
      [1024, [], 2],
      [0, [], 1],
    ],
  },
  barrier: {
    bytes: 'the communicator size only',
    algs: ['linear', 'double_ring', 'recursive_doubling', 'bruck', 'two_proc', 'tree'],
    rows: [
      [4, [], 3],
      [8, [], 1],
      [64, [], 3],
      [256, [], 4],
      [512, [], 6],
      [1024, [], 4],
      [4096, [], 6],
      [0, [], 4],
    ],
  },
  bcast: {
    bytes: 'the buffer',
    algs: ['basic_linear', 'chain', 'pipeline', 'split_binary_tree', 'binary_tree', 'binomial', 'knomial', 'scatter_allgather', 'scatter_allgather_ring'],
    rows: [
      [4, [[32, 3], [256, 5], [512, 3], [1024, 7], [32768, 1], [131072, 5], [262144, 2], [524288, 1], [1048576, 6]], 5],
      [8, [[64, 5], [128, 6], [2048, 5], [8192, 6], [1048576, 1]], 2],
      [16, [[8, 7], [64, 5], [4096, 7], [16384, 5], [32768, 6]], 1],
      [32, [[4096, 7], [1048576, 6]], 8],
      [64, [[2048, 6]], 7],
      [128, [], 7],
      [256, [[2, 6], [16384, 5], [32768, 1], [65536, 5]], 7],
      [1024, [[16384, 7], [32768, 4]], 7],
      [2048, [[524288, 7]], 8],
      [4096, [[262144, 7]], 8],
      [0, [[8192, 7], [16384, 5], [262144, 7]], 8],
    ],
  },
  reduce: {
    bytes: 'the buffer',
    algs: ['linear', 'chain', 'pipeline', 'binary', 'binomial', 'in-order_binary', 'rabenseifner'],
    rows: [
      [4, [[8, 7], [16, 4], [32, 3], [262144, 1], [524288, 3], [1048576, 2]], 3],
      [8, [[4096, 4], [65536, 2], [262144, 5], [524288, 1], [1048576, 5]], 1],
      [16, [[8192, 4]], 5],
      [32, [[4096, 4]], 5],
      [256, [], 5],
      [512, [[8192, 5], [16384, 6]], 5],
      [2048, [], 5],
      [4096, [[512, 5], [1024, 6], [8192, 5], [16384, 6]], 5],
      [0, [[16, 5], [32, 6], [1024, 5], [2048, 6], [8192, 5], [16384, 6]], 5],
    ],
  },
  reduceScatter: {
    bytes: 'the whole vector (sum of the counts)',
    algs: ['non-overlapping', 'recursive_halving', 'ring', 'butterfly'],
    rows: [
      [4, [[65536, 3], [131072, 4]], 3],
      [8, [[8, 1], [262144, 2]], 3],
      [32, [[262144, 2]], 3],
      [64, [[64, 1], [2048, 2], [524288, 4]], 3],
      [128, [[256, 1], [512, 2], [2048, 4], [4096, 2]], 4],
      [256, [[256, 1], [512, 2]], 4],
      [512, [[256, 1], [1024, 2]], 4],
      [1024, [[512, 1], [2048, 2], [8192, 4], [16384, 2]], 4],
      [2048, [[512, 1], [4096, 2], [16384, 4], [32768, 2]], 4],
      [4096, [[512, 1], [4096, 2]], 4],
      [0, [[1024, 1], [8192, 2]], 4],
    ],
  },
  reduceScatterBlock: {
    bytes: "one rank's block",
    algs: ['basic_linear', 'recursive_doubling', 'recursive_halving', 'butterfly'],
    rows: [
      [4, [[4, 2], [8, 4], [16, 3], [128, 4], [256, 3], [4096, 4], [8192, 3], [131072, 4]], 1],
      [8, [[8, 3], [32, 2], [256, 4], [8192, 3], [16384, 4], [1048576, 3]], 1],
      [16, [[4, 1], [32, 3], [128, 4], [524288, 3], [4194304, 1]], 4],
      [32, [[32, 1], [524288, 3], [2097152, 1], [4194304, 3]], 4],
      [0, [[4, 3], [16, 1], [65536, 4], [262144, 1]], 4],
    ],
  },
  allgather: {
    bytes: "one rank's block",
    algs: ['linear', 'bruck', 'recursive_doubling', 'ring', 'neighbor', 'two_proc'],
    rows: [
      [3, [], 6],
      [32, [], 3],
      [64, [[1024, 3], [65536, 5]], 4],
      [128, [[512, 3], [65536, 5]], 4],
      [256, [[512, 3], [131072, 5], [524288, 4], [1048576, 5]], 4],
      [512, [[32, 3], [128, 2], [1024, 3], [131072, 5], [524288, 4], [1048576, 5]], 4],
      [1024, [[64, 3], [256, 2], [2048, 3]], 5],
      [2048, [[4, 3], [8, 2], [16, 3], [32, 2], [256, 3], [512, 2], [4096, 3]], 5],
      [4096, [[32, 2], [128, 3], [512, 2], [4096, 3]], 5],
      [0, [[2, 3], [8, 2], [16, 3], [512, 2], [4096, 3]], 5],
    ],
  },
  allgatherv: {
    bytes: 'the mean block (total / P)',
    algs: ['default', 'bruck', 'ring', 'neighbor', 'two_proc'],
    rows: [
      [3, [[2048, 3], [4096, 5], [8192, 3]], 5],
      [8, [[256, 1], [4096, 4], [8192, 3], [16384, 4], [262144, 2]], 4],
      [16, [[1024, 1]], 2],
      [32, [[128, 1], [262144, 2]], 3],
      [64, [[256, 1], [8192, 2]], 3],
      [128, [[256, 1], [4096, 2]], 3],
      [256, [[1024, 2], [65536, 4]], 3],
      [512, [[1024, 2]], 3],
      [1024, [[512, 2], [1024, 1], [4096, 2], [1048576, 4]], 3],
      [0, [[4096, 2]], 4],
    ],
  },
  gather: {
    bytes: "one rank's block",
    algs: ['basic_linear', 'binomial', 'linear_sync'],
    rows: [
      [4, [[2, 3], [4, 1], [32768, 2], [65536, 1], [131072, 2]], 3],
      [8, [[1024, 2], [8192, 1], [32768, 2], [262144, 1]], 3],
      [256, [], 2],
      [512, [[2048, 2], [8192, 1]], 2],
      [0, [], 2],
    ],
  },
  scatter: {
    bytes: "one rank's block",
    algs: ['basic_linear', 'binomial', 'linear_nb'],
    rows: [
      [4, [[2, 3], [131072, 1], [262144, 3]], 1],
      [8, [[2048, 2], [4096, 1], [8192, 2], [32768, 1], [1048576, 3]], 1],
      [16, [[16384, 2], [1048576, 3]], 1],
      [32, [[16384, 2], [32768, 1]], 3],
      [64, [[512, 2], [8192, 3], [16384, 2]], 3],
      [0, [[512, 2]], 3],
    ],
  },
};

/** "in-order_binary" -> "InOrderBinary" */
const pascal = (name) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
const families = () => Object.entries(TUNED_RULES);

/** build/generated/tuned_table.h */
export function tunedHeader() {
  const parts = families().map(([fam, { bytes, algs, rows }]) => {
    const cuts = rows.flatMap(([, c]) => c);
    let at = 0;
    const rowText = rows.map(([below, c, alg]) => {
      const r = `{${below}, ${at}, ${c.length}, ${alg}}`;
      at += c.length;
      return r;
    });
    return `// ${fam}: by ${bytes}
namespace ${fam} {
${algs.map((a, i) => `constexpr int k${pascal(a)} = ${i + 1};`).join('\n')}
inline constexpr Cut kCuts[] = {${cuts.map(([b, a]) => `{${b}u, ${a}}`).join(', ') || '{0u, 0}'}};
inline constexpr Row kRows[] = {${rowText.join(', ')}};
inline int rule(int size, uint64_t bytes) { return pick(kRows, kCuts, size, bytes); }
}  // namespace ${fam}`;
  });
  return `// Generated by native/shim/gen/generate.mjs from native/shim/gen/tuned_rules.mjs. Do not edit.
// Open MPI 4.1's coll/tuned fixed decision rules (commutative operations), as the replay
// (src/generated/tuned-table.ts) has them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sitempi::core::tuned_table {

struct Cut {
  uint64_t below;
  int alg;
};
// size_below 0: every larger communicator
struct Row {
  int size_below, first_cut, cuts, alg;
};

// The algorithm number the rules pick on \`size\` ranks for \`bytes\`.
template <std::size_t N>
inline int pick(const Row (&rows)[N], const Cut* cuts, int size, uint64_t bytes) {
  std::size_t i = 0;
  while (i + 1 < N && size >= rows[i].size_below) ++i;
  const Row& r = rows[i];
  for (int k = 0; k < r.cuts; ++k)
    if (bytes < cuts[r.first_cut + k].below) return cuts[r.first_cut + k].alg;
  return r.alg;
}

${parts.join('\n\n')}

}  // namespace sitempi::core::tuned_table
`;
}

/** src/generated/tuned-table.ts */
export function tunedTs() {
  const consts = families().map(
    ([fam, { bytes, algs }]) => `/** ${fam} (by ${bytes}): Open MPI's algorithm numbers */
export const ${pascal(fam)}Alg = {
${algs.map((a, i) => `  ${pascal(a)}: ${i + 1},`).join('\n')}
} as const;`,
  );
  const rules = families().map(([fam, { rows }]) => `  ${fam}: ${JSON.stringify(rows)},`);
  return `// Generated by native/shim/gen/generate.mjs from native/shim/gen/tuned_rules.mjs. Do not edit.
// Open MPI 4.1's coll/tuned fixed decision rules (commutative operations), as the native cost model
// (build/generated/tuned_table.h) has them.

${consts.join('\n\n')}

export type TunedFamily = ${families()
    .map(([fam]) => `'${fam}'`)
    .join(' | ')};

type Rows = readonly (readonly [number, readonly (readonly [number, number])[], number])[];
const RULES: Record<TunedFamily, Rows> = {
${rules.join('\n')}
};

/** The algorithm number the rules of \`family\` pick on \`size\` ranks for \`bytes\`. */
export function tunedRule(family: TunedFamily, size: number, bytes: number): number {
  const rows = RULES[family];
  let i = 0;
  while (i + 1 < rows.length && size >= rows[i][0]) i++;
  const [, cuts, alg] = rows[i];
  for (const [below, a] of cuts) if (bytes < below) return a;
  return alg;
}
`;
}
