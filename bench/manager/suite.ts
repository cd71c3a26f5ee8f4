// The simulated manager scenario's entry in `npm run bench` (bench/run.ts): its arguments per
// level and the ratio lines it contributes to the suite's summary.
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Level = 'smoke' | 'quick' | 'full';

export const managerSimBench = {
  name: 'manager-sim',
  what: 'simulated job stream on 4 x 1000 nodes: the planner vs no relocation, consolidate-only, random',
  script: path.join('manager', 'sim.js'),
  args: (level: Level, out: string): string[] => [...(level === 'smoke' ? ['--jobs', '200'] : []), '--out', out],
  timeoutS: { smoke: 120, quick: 300, full: 600 },
  ratios: (out: string): string[] =>
    (JSON.parse(readFileSync(path.join(out, 'manager-sim.json'), 'utf8')) as { summary: string[] }).summary,
};
