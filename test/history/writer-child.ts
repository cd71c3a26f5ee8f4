// A process that writes jobs to a history database in a loop until it is killed (store.test.ts
// SIGKILLs it mid-write). Each job has a full 64 x 64 block matrix, so a write takes a while.
import { HistoryStore } from '../../src/history/store.js';
import type { HistoryEntry } from '../../src/history/entry.js';

const file = process.argv[2];
const store = HistoryStore.open(file);
const cells: HistoryEntry['matrix']['cells'] = [];
for (let s = 0; s < 64; s++)
  for (let d = 0; d < 64; d++) cells.push({ src: s, dst: d, bytes: s * 64 + d + 1, messages: 1 });
for (let i = 0; ; i++) {
  store.write({
    jobId: `kill-${i}`,
    name: 'killed',
    program: '/bin/killed',
    size: 512,
    startedAt: Date.now() - 1000,
    endedAt: Date.now(),
    endReason: 'complete',
    records: i,
    bytes: 1e9,
    messages: 4096,
    mpiSeconds: 1,
    wallSeconds: 2,
    mpiFraction: 0.5,
    classification: {
      verdict: i % 2 ? 'network-intensive' : 'compute-intensive',
      rules: [],
      reasons: [],
      numbers: {} as HistoryEntry['classification']['numbers'],
    },
    startVerdict: null,
    functions: Array.from({ length: 40 }, (_, k) => ({
      name: `MPI_F${k}`,
      kind: 'p2p',
      calls: k,
      bytes: k,
      timeNs: k,
    })),
    matrix: { blockRanks: 8, blocks: 64, cells },
    placements: [{ epoch: 1, map: 'A:0-511', source: 'config', reason: 'r', at: Date.now(), jobSeconds: 0 }],
    relocations: [],
  });
  if (i === 0) process.stdout.write('writing\n');
}
