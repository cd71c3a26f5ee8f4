// A history entry of one past run, as the manager's placement hint reads it.
import type { HistoryEntry } from '../../src/history/entry.js';

export function run(name: string, jobId: string, verdict: 'network-intensive' | 'compute-intensive', endedAt: number) {
  const e: HistoryEntry = {
    jobId,
    name,
    program: `/bench/${name}`,
    size: 4,
    startedAt: endedAt - 5000,
    endedAt,
    endReason: 'complete',
    records: 100,
    bytes: 1e6,
    messages: 100,
    mpiSeconds: 1,
    wallSeconds: 5,
    mpiFraction: 0.2,
    classification: { verdict, rules: [], reasons: [], numbers: {} as HistoryEntry['classification']['numbers'] },
    startVerdict: null,
    functions: [],
    matrix: { blockRanks: 1, blocks: 4, cells: [{ src: 0, dst: 1, bytes: 1e6, messages: 100 }] },
    placements: [],
    relocations: [],
  };
  return e;
}
