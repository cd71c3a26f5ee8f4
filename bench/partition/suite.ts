// The partition benchmark's entry in `npm run bench` (bench/run.ts): its arguments per level and
// the ratio lines it contributes to the suite's summary.
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Level = 'smoke' | 'quick' | 'full';

export const partitionBench = {
  name: 'partition',
  what: 'partitioner vs METIS (gpmetis): cut and time on stencil, wavefront, CG-like and random graphs',
  script: path.join('partition', 'run.js'),
  args: (level: Level, out: string): string[] => [
    ...(level === 'smoke'
      ? ['--sizes', '1024', '--sites', '4', '--reps', '1']
      : level === 'quick'
        ? ['--sizes', '1024,10000', '--sites', '4,8']
        : []),
    '--out',
    out,
  ],
  timeoutS: { smoke: 120, quick: 600, full: 1800 },
  ratios: (out: string): string[] =>
    (JSON.parse(readFileSync(path.join(out, 'partition.json'), 'utf8')) as { summary: string[] }).summary,
};
