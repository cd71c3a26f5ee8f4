// Where the shim's sender thread runs (SITEMPI_SENDER_CPUS): mpirun binds a rank to its core and
// threads inherit that; by default the sender moves off it, so its encoding does not time-slice
// with the application, unless every CPU of the node already runs a rank.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/shim/programs/threads.c');
const ncpus = os.cpus().length;

interface Placement {
  main: string;
  sender: string;
}

async function cpus(env: Record<string, string>, np = 1): Promise<{ ranks: Placement[]; stderr: string }> {
  const r = await mpirun({
    np,
    program,
    baseArgs: ['--mca', 'btl', 'self,vader', '--bind-to', 'core'],
    env: { SITEMPI_OUTPUT_DIR: tempDir('sender-cpus'), ...env },
  });
  expect(r.code).toBe(0);
  const ranks: Placement[] = [];
  for (const m of r.stdout.matchAll(/^(\d+) main (\S+) sender (\S+)$/gm))
    ranks[Number(m[1])] = { main: m[2], sender: m[3] };
  expect(ranks.filter(Boolean)).toHaveLength(np);
  return { ranks, stderr: r.stderr };
}

describe('SITEMPI_SENDER_CPUS', () => {
  it.runIf(ncpus >= 2)('default: the sender leaves the CPU the rank is bound to', async () => {
    const {
      ranks: [{ main, sender }],
    } = await cpus({});
    expect(main).toMatch(/^\d+$/); // bound to one core
    expect(sender).not.toBe('none');
    expect(sender.split(/[,-]/)).not.toContain(main);
  });

  it.runIf(ncpus >= 2 && ncpus <= 16)(
    'default: the sender stays with its rank when every CPU runs a rank',
    async () => {
      const { ranks } = await cpus({}, ncpus);
      expect(new Set(ranks.map((r) => r.main)).size).toBe(ncpus); // one core each
      for (const { main, sender } of ranks) expect(sender).toBe(main);
    },
  );

  it("inherit: the sender keeps the rank's binding", async () => {
    const {
      ranks: [{ main, sender }],
    } = await cpus({ SITEMPI_SENDER_CPUS: 'inherit' });
    expect(sender).toBe(main);
  });

  it('a CPU list pins the sender there', async () => {
    const {
      ranks: [{ sender }],
    } = await cpus({ SITEMPI_SENDER_CPUS: '0' });
    expect(sender).toBe('0');
  });

  it('a malformed list is reported and the binding stays', async () => {
    const {
      ranks: [{ main, sender }],
      stderr,
    } = await cpus({ SITEMPI_SENDER_CPUS: '3-1' });
    expect(stderr).toContain('ignoring SITEMPI_SENDER_CPUS=3-1');
    expect(sender).toBe(main);
  });
});
