// The live scenario's jobs (Tatezono et al.'s order: EP runs, LU arrives, EP ends and CG arrives, CG
// ends and a second EP arrives) at a scale of the full run: the one definition that the benchmark
// (bench/manager/live.ts, built-in queue or Slurm) and the Slurm test (test/manager/slurm-live.test.ts)
// run. The programs are sitempi's own (bench/validation), their compute a timed sleep.
import path from 'node:path';
import { compileMpi } from '../../src/mpi/toolchain.js';
import type { TestbedSpec } from '../../src/testbed/spec.js';
import type { Program, Step } from './live-run.js';

/** Sites A (6 nodes) and B (2 nodes), 1 slot each: the scale of Tatezono et al.'s 24 + 8 this machine bears. */
export function liveTestbedSpec(rttMs: number): TestbedSpec {
  return {
    sites: [
      { name: 'A', nodes: 6 },
      { name: 'B', nodes: 2 },
    ],
    slots: 1,
    rttMs,
  };
}

export interface LiveScenario {
  /** Each program alone (the simulator's job model is fitted from these runs). */
  alone: Program[];
  /** The four jobs, each submitted when its condition holds. */
  steps: Step[];
}

/** LU is submitted this long after EP-1 started: EP-1 then holds 4 of A's 6 nodes, LU starts split. */
export const LU_AFTER_S = 3;

/**
 * `scale` 1: one-site run times EP ~30 s, LU ~30 s, CG ~40 s (the full run); 1/3 is --quick.
 * Compiles the programs (compileMpi keeps a binary per source text).
 */
export function liveScenario(scale: number): LiveScenario {
  const n = (x: number) => String(Math.max(3, Math.round(x * scale)));
  const src = (f: string) => path.join('bench', 'validation', f);
  const ep = compileMpi(src('ep.c'));
  const wavefront = compileMpi(src('wavefront.c'));
  const cg = compileMpi(src('cg.c'));
  const EP = (name: string): Program => ({ name, app: [ep, n(300), '100000'] });
  // LU: 30 ms blocks, 128 KiB messages (past Open MPI's eager limit: each waits for its receiver)
  const LU: Program = { name: 'LU', app: [wavefront, n(1000), '30000', '131072'] };
  // CG: 130 ms between the exchanges of an iteration, 2 KiB messages and two small allreduces
  const CG: Program = { name: 'CG', app: [cg, n(200), '130000', '2048'] };
  return {
    alone: [LU, CG, EP('EP')],
    steps: [
      { job: EP('EP-1'), when: () => true },
      { job: LU, when: (s) => s.runningFor('EP-1') >= LU_AFTER_S },
      { job: CG, when: (s) => s.ended.has('EP-1') },
      { job: EP('EP-2'), when: (s) => s.ended.has('CG') },
    ],
  };
}
