// A trace of a real job that was relocated twice: 4 ranks run every covered collective (the
// relocation soak program) while a real Monitor pushes two placements; what each rank sent is
// kept byte for byte (the same frames a rank file holds) and written as rank files. The trace
// shows both relocations as global instants and every rank's switches on its own track.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTrace } from '../../src/trace/index.js';
import type { Placement } from '../../src/wire/messages.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { TappedMonitor, sleep } from '../relocation/harness.js';
import { checkTrace } from './check-trace.js';

const program = compileMpi('test/relocation/programs/soak.c');
const NP = 4;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('trace of a relocated job', () => {
  it('relocations are global instants at the first switch, switches instants on every rank', async () => {
    const dir = tempDir('trace-reloc');
    dirs.push(dir);
    const tm = await TappedMonitor.start(dir);
    const stop = path.join(dir, 'stop');
    const placements: Placement[] = [
      { epoch: 1, sites: ['a', 'b'], siteOf: [0, 0, 1, 1] },
      { epoch: 2, sites: ['a', 'b', 'c'], siteOf: [0, 1, 2, 2] },
    ];
    try {
      const run = mpirun({
        np: NP,
        program,
        args: [stop, '60'],
        timeoutMs: 90_000,
        env: { SITEMPI_MONITOR: tm.address, SITEMPI_CHECKPOINT_EVERY: '4', SITEMPI_FLUSH_MS: '100' },
      });
      const jobId = await tm.waitForRanks(NP);
      for (const p of placements) {
        await sleep(400);
        expect(tm.monitor.sendPlacement(jobId, p)).toBe(NP);
      }
      await sleep(600);
      fs.writeFileSync(stop, '');
      const r = await run;
      expect(r.code).toBe(0);
      await sleep(300);
      tm.streams.forEach((chunks, i) => fs.writeFileSync(path.join(dir, `s-${i}.smpi`), Buffer.concat(chunks)));
    } finally {
      await tm.close();
    }
    const out = path.join(dir, 'trace.json');
    const s = await writeTrace([dir], out);
    expect(s).toMatchObject({ jobs: 1, ranks: NP, coalesced: false });
    expect(s.spans).toBe(s.calls);
    const t = checkTrace(fs.readFileSync(out, 'utf8'));
    for (let rank = 0; rank < NP; rank++) {
      expect(t.threads.get(`1:${rank}`)).toMatch(new RegExp(`^rank ${rank} `));
      expect(t.calls.get(`1:${rank}`)!.length).toBeGreaterThan(0);
      for (const epoch of [1, 2]) {
        const sw = t.instants.filter((e) => e.tid === rank && e.name === `placement switch: epoch ${epoch}`);
        expect(sw.length).toBeGreaterThan(0); // each communicator of the rank that switched
        expect(sw.every((e) => e.s === 't' && e.args!.epoch === epoch)).toBe(true);
      }
    }
    const reloc = t.instants.filter((e) => e.s === 'g');
    expect(reloc.map((e) => e.name)).toEqual(['relocation: epoch 1', 'relocation: epoch 2']);
    expect(reloc[0].ts!).toBeLessThan(reloc[1].ts!);
    expect(reloc.map((e) => e.args!.ranks_switched)).toEqual([NP, NP]);
    expect(reloc.map((e) => e.args!.ranks_per_site)).toEqual([
      'site 0: 2, site 1: 2',
      'site 0: 1, site 1: 1, site 2: 2',
    ]);
    // each relocation is at its earliest switch on any rank
    for (const [i, epoch] of [1, 2].entries()) {
      const first = Math.min(
        ...t.instants.filter((e) => e.name === `placement switch: epoch ${epoch}`).map((e) => e.ts!),
      );
      expect(reloc[i].ts).toBe(first);
    }
  });
});
