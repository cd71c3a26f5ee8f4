// The shim's memory per rank is bounded (kMaxBufferBytes, 64 MiB of record buffers: the queue,
// allocated as it fills, and the encoder's buffers), also when the monitor stalls and the queue
// fills up; settings that would need more are refused with one line and the defaults used.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir, type RunResult } from '../helpers/mpi.js';

const recordsBin = compileMpi('test/shim/programs/records.c');
const MiB = 1024 * 1024;
const BOUND = 64 * MiB;
// The shim's own code, thread and bookkeeping, beyond its record buffers.
const SLACK = 8 * MiB;
const CALLS = '2000000';
// Without mpi_yield_when_idle: MPI_Iprobe must be cheap for the queue to fill in a short run.
const baseArgs = ['--oversubscribe', '--mca', 'btl', 'self,vader'];

/** Peak resident memory of each rank (bytes), as the program printed it. */
function peaks(r: RunResult): number[] {
  expect(r.code, r.stderr).toBe(0);
  const out: number[] = [];
  for (const m of r.stdout.matchAll(/^rank (\d+) peak (\d+) kB$/gm)) out[Number(m[1])] = Number(m[2]) * 1024;
  expect(out.filter((x) => x > 0)).toHaveLength(2);
  return out;
}

describe('shim memory per rank', () => {
  // A "monitor" that accepts and never reads: the sender blocks, the queue fills.
  let sock = '';
  let server: net.Server;
  let baseline = 0;
  beforeAll(async () => {
    sock = `${tempDir('stalled')}/monitor.sock`;
    server = net.createServer({ pauseOnConnect: true }, (c) => c.on('error', () => {}));
    await new Promise<void>((r) => server.listen(sock, r));
    baseline = Math.max(
      ...peaks(await mpirun({ np: 2, program: recordsBin, args: [CALLS, 'rss'], shim: false, baseArgs })),
    );
  });
  afterAll(() => server?.close());

  const stalled = (env: Record<string, string>) =>
    mpirun({
      np: 2,
      program: recordsBin,
      args: [CALLS, 'rss'],
      baseArgs,
      timeoutMs: 120_000,
      env: { SITEMPI_MONITOR: `unix:${sock}`, SITEMPI_FINALIZE_TIMEOUT_MS: '500', ...env },
    });

  it('settings just inside the bound, monitor stalled: the queue fills and the rank stays within it', async () => {
    // 16384 records x 112 batches x 32 B = 56 MiB of queue, plus the encoder's buffers: < 64 MiB.
    const r = await stalled({ SITEMPI_BATCH_RECORDS: '16384', SITEMPI_QUEUE_BATCHES: '112' });
    expect(r.stderr).toBe('');
    for (const p of peaks(r)) {
      expect(p - baseline).toBeLessThan(BOUND + SLACK);
      expect(p - baseline).toBeGreaterThan(32 * MiB); // the queue did fill: the measure can fail
    }
  });

  for (const [name, env] of [
    ['SITEMPI_QUEUE_BATCHES=65536 (8 GiB)', { SITEMPI_QUEUE_BATCHES: '65536' }],
    ['SITEMPI_BATCH_RECORDS=1048576 (2 GiB)', { SITEMPI_BATCH_RECORDS: '1048576' }],
    ['SITEMPI_BATCH_RECORDS=65536 (128 MiB)', { SITEMPI_BATCH_RECORDS: '65536' }],
  ] as const) {
    it(`${name}: refused with one line from rank 0, the defaults used, the rank stays within the bound`, async () => {
      const r = await stalled(env);
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(
          /^sitempi: ignoring SITEMPI_BATCH_RECORDS=\d+ with SITEMPI_QUEUE_BATCHES=\d+ \(\d+ MiB per rank, more than 64 MiB\); using 4096 and 64$/,
        ),
      ]);
      expect(r.stdout).toContain(`records: ${CALLS} calls on 2 ranks, sum 3`);
      for (const p of peaks(r)) expect(p - baseline).toBeLessThan(16 * MiB); // defaults: 8 MiB of queue
    });
  }
});
