// The validation programs (bench/validation/*.c): eight characters of MPI program, compute
// emulated by timed sleeps. Arguments for 4 ranks: a full run takes 0.3-1.5 s of MPI time on one
// site, a quick one about half that.

export interface Program {
  /** short name (file name without .c) */
  id: string;
  /** what it is, for tables */
  name: string;
  file: string;
  args: (quick: boolean) => string[];
}

const n = (quick: boolean, full: number): string => String(quick ? Math.max(2, Math.round(full / 2)) : full);

export const PROGRAMS: Program[] = [
  { id: 'ep', name: 'embarrassingly parallel', file: 'ep.c', args: (q) => [n(q, 40), '20000'] },
  { id: 'halo2d', name: '2-D halo stencil', file: 'halo2d.c', args: (q) => [n(q, 40), '10000', '32768'] },
  { id: 'halo3d', name: '3-D halo stencil', file: 'halo3d.c', args: (q) => [n(q, 40), '10000', '16384'] },
  { id: 'wavefront', name: 'LU-like wavefront', file: 'wavefront.c', args: (q) => [n(q, 40), '5000', '4096'] },
  { id: 'cg', name: 'CG-like sparse solver', file: 'cg.c', args: (q) => [n(q, 40), '5000', '2048'] },
  { id: 'fft', name: 'FFT-like transpose (Alltoall)', file: 'fft.c', args: (q) => [n(q, 20), '20000', '262144'] },
  { id: 'isort', name: 'integer sort (Alltoallv)', file: 'isort.c', args: (q) => [n(q, 20), '20000', '524288'] },
  {
    id: 'mg',
    name: 'multigrid V-cycle',
    file: 'mg.c',
    args: (q) => [n(q, 10), '16000', '131072', q ? '250000' : '500000'],
  },
  { id: 'mw', name: 'master-worker', file: 'mw.c', args: (q) => [n(q, 60), '10000', '8192'] },
];
