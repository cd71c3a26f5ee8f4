// The shim's sender thread sleeps between flushes: an application that computes (here: sleeps)
// gets its cores, whatever SITEMPI_FLUSH_MS says.
import { expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/shim/programs/sender_idle.c');

it('the sender thread does not spin while the ranks are idle, even flushing every 3 ms', async () => {
  const r = await mpirun({
    np: 2,
    program,
    args: ['1500'],
    env: { SITEMPI_OUTPUT_DIR: tempDir('sender-idle'), SITEMPI_FLUSH_MS: '3' },
  });
  expect(r.code, r.stderr).toBe(0);
  const ranks = [...r.stdout.matchAll(/^(\d+) sender_ms (-?\d+) idle_ms (\d+)$/gm)];
  expect(ranks).toHaveLength(2);
  for (const [, rank, senderMs, idleMs] of ranks) {
    expect(Number(senderMs), `rank ${rank}`).toBeGreaterThanOrEqual(0); // the thread was found
    // Spinning through the last millisecond before each flush took 430-450 ms of 1500.
    expect(Number(senderMs), `rank ${rank}`).toBeLessThan(Number(idleMs) * 0.05);
  }
});
