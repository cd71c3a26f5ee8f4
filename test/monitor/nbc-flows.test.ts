// Non-blocking collectives run by Open MPI's coll/libnbc, expanded in the monitor's matrix as libnbc
// sends them (native/core/nbc.cpp): a real program under mpirun and the shim, every non-blocking
// collective at 2-8 ranks, sizes on both sides of libnbc's rules and roots 0, odd and even, held
// byte for byte and message for message to what Open MPI's pml monitoring component counted in a
// run without the shim.
import { describe, expect, it } from 'vitest';
import { NbcAlg, nbcAllreduceAlg, nbcBcastAlg, nbcReduceAlg } from '../../src/replay/nbc.js';
import { compileMpi } from '../helpers/mpi.js';
import { observed, openMpiCounts } from './pml-counts.js';

const program = compileMpi('test/monitor/programs/nbc_flows.c');

// Every family once at each size (roots 1 and the last), then the calls that reach the rules' cases.
const common = (P: number): string[] => [
  ...['ibar:0', 'ibc:100:1', 'iar:10', 'ired:3:1', 'iag:100', 'iagv:20', 'ia2a:50', 'ia2av:5'],
  ...[`iga:40:${P - 1}`, 'igv:0:1', `isc:30:${P - 1}`, 'isv:7:1', 'irsb:9', 'irs:11', 'iscan:5', 'iexscan:0'],
];
const cases: [number, string[]][] = [
  [2, ['ired:16384:1', 'iar:16384', 'iscan:0']],
  [3, ['ibc:0:2', 'ired:100:1', 'ired:100:2', 'iar:10000', 'irsb:0']],
  [4, ['ibc:100:3', 'iar:8192', 'ired:8192:2', 'ired:3:0']],
  [5, ['ibc:5000:3', 'iar:8192', 'ired:100:0', 'ired:100:1', 'ired:2:4', 'iar:100']],
  [6, ['ired:48:3', 'ired:48:2', 'ired:48:5', 'ibc:100:0', 'iar:9000']],
  [7, ['ired:64:5', 'ired:64:6', 'iar:16384', 'ibc:100:6']],
  [8, ['iar:8192', 'ired:7:3', 'ired:64:5', 'ired:64:0', 'ibc:100:5']],
];

/** The algorithms libnbc's rules pick for a call, as the replay's rules say (the matrix's are held to them). */
function picked(P: number, call: string): string {
  const [what, n] = call.split(':');
  const name = (alg: number) => Object.entries(NbcAlg).find(([, v]) => v === alg)![0];
  if (what === 'ibc') return `bcast ${name(nbcBcastAlg(P))}`;
  if (what === 'iar') return `allreduce ${name(nbcAllreduceAlg(P, Number(n) * 8))}`;
  if (what === 'ired') return `reduce ${name(nbcReduceAlg(P, Number(n) * 8))}`;
  return what;
}

describe('non-blocking collectives as libnbc runs them, against Open MPI’s counters', () => {
  it('the sizes cover every algorithm the default rules reach', () => {
    const all = new Set(cases.flatMap(([P, calls]) => [...common(P), ...calls].map((c) => picked(P, c))));
    for (const a of ['bcast Linear', 'bcast Binomial', 'allreduce Binomial', 'allreduce Rabenseifner'])
      expect(all, a).toContain(a);
    for (const a of ['reduce Binomial', 'reduce Rabenseifner', 'reduce Chain']) expect(all, a).toContain(a);
  });
  for (const [P, calls] of cases)
    it(`${P} ranks`, async () => {
      const args = [...common(P), ...calls];
      const [job, sent] = await Promise.all([
        observed(program, P, args, 'nbc_flows ok'),
        openMpiCounts(program, P, args),
      ]);
      expect(job.unexpandedCollectives).toBe(0);
      expect(job.matrix.bytes).toEqual(sent.bytes);
      expect(job.matrix.messages).toEqual(sent.messages);
    }, 120_000);
});
