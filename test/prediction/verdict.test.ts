// The verdict from the prediction: real runs under the shim, their records replayed on the split
// in halves. A ring of dependent small messages is predicted far slower split and called
// network-intensive; rare exchanges between long computations are predicted about as fast and
// compute-intensive; the rates rule stays selectable and its numbers stay in the report; the
// monitor keeps at most its window of records and the report says a window was used.
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/monitor/classify.js';
import { loadRankFiles } from '../../src/monitor/files.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { RECORD_BYTES, replayWindowOf, windowsFromFiles } from '../../src/monitor/prediction.js';
import type { JobProfile } from '../../src/monitor/job.js';
import { buildReport } from '../../src/report/report.js';
import { formatJobText } from '../../src/report/text.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const prog = compileMpi('test/prediction/verdict.c');

async function fromFiles(args: string[], job: string): Promise<JobProfile> {
  const dir = tempDir(`predict-${job}`);
  const got = await mpirun({ np: 4, program: prog, args, env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: job } });
  expect(got.code).toBe(0);
  const jobs = await loadRankFiles([dir]);
  await windowsFromFiles([dir], jobs);
  return jobs[0];
}

describe('verdict from the prediction', () => {
  it('a ring of dependent messages: split predicted slower than the threshold, network-intensive by prediction', async () => {
    const job = await fromFiles(['ring', '200'], 'ring');
    const c = classify(job);
    expect(c.predictedSlowdown?.split).not.toBeNull();
    expect(c.predictedSlowdown!.split!).toBeGreaterThan(c.predictedSlowdown!.params.maxSplitSlowdown);
    expect(c.predictedSlowdown!.current).toBeNull(); // no site map: recorded on one site
    expect(c.predictedSlowdown!.window.truncated).toBe(false);
    expect(c.decidedBy).toBe('prediction');
    expect(c.verdict).toBe('network-intensive');
    expect(c.rules).toEqual(['prediction']);
    // both rules' numbers in the report
    const r = buildReport([job]);
    const text = formatJobText(r.jobs[0]);
    expect(text).toMatch(/predicted slowdown split in halves .*: \d+\.\d\dx > 1\.25x/);
    expect(text).toContain(`rates rule (not deciding): ${c.ratesVerdict}`);
    expect(r.jobs[0].classification.numbers.crossBytesPerSecond).toBeGreaterThan(0);
    const json = JSON.parse(JSON.stringify(r.jobs[0].classification)) as typeof c;
    expect(json.predictedSlowdown?.split).toBeCloseTo(c.predictedSlowdown!.split!, 6);
    // the rates rule, asked for, decides; the prediction stays in the reasons
    const rates = classify(job, { rule: 'rates' });
    expect(rates.decidedBy).toBe('rates');
    expect(rates.verdict).toBe(rates.ratesVerdict);
    expect(rates.reasons.join('\n')).toContain('predicted slowdown not used (rule rates asked for)');
    // a larger threshold than the predicted slowdown turns the verdict
    const lax = classify(job, { maxSplitSlowdown: c.predictedSlowdown!.split! * 2 });
    expect(lax.verdict).toBe('compute-intensive');
  }, 120_000);

  it('rare exchanges between long computations: split predicted about as fast, compute-intensive', async () => {
    const job = await fromFiles(['ep', '3', '300000'], 'ep');
    const c = classify(job);
    expect(c.decidedBy).toBe('prediction');
    expect(c.predictedSlowdown!.split!).toBeGreaterThanOrEqual(0.95);
    expect(c.predictedSlowdown!.split!).toBeLessThan(1.25);
    expect(c.verdict).toBe('compute-intensive');
  }, 120_000);

  it('the monitor keeps at most its window of records; the report says the prediction used a window', async () => {
    const perRank = 400;
    const m = new Monitor({ replayBytes: perRank * RECORD_BYTES * 4 });
    try {
      const ended = new Promise<JobProfile>((res) => m.on('jobEnd', (j: JobProfile) => res(j)));
      const [addr] = await m.listen('tcp://127.0.0.1:0');
      const got = await mpirun({
        np: 4,
        program: prog,
        args: ['ring', '600'],
        env: { SITEMPI_MONITOR: addr, SITEMPI_JOB: 'ring-window' },
      });
      expect(got.code).toBe(0);
      const job = await ended;
      const w = replayWindowOf(job)!;
      expect(w.truncated).toBe(true);
      expect(w.ranks).toHaveLength(4);
      for (const r of w.ranks) expect(r.fn.length).toBeLessThanOrEqual(perRank);
      expect(job.records).toBeGreaterThan(4 * 1200);
      const c = classify(job);
      expect(c.predictedSlowdown!.window.records).toBe(w.records);
      expect(c.predictedSlowdown!.window.recordsInJob).toBe(job.records);
      expect(c.verdict).toBe('network-intensive');
      expect(c.reasons[0]).toContain(`from a window of ${w.records} of ${job.records} records`);
    } finally {
      await m.close();
    }
  }, 120_000);

  it("all jobs' windows together stay within replayTotalBytes; a job the monitor forgets gives its share back", async () => {
    const total = 1000; // records, all jobs
    const m = new Monitor({
      replayBytes: 4000 * RECORD_BYTES,
      replayTotalBytes: total * RECORD_BYTES,
      keepEndedJobs: 1,
    });
    try {
      const [addr] = await m.listen('tcp://127.0.0.1:0');
      const run = async (name: string): Promise<JobProfile> => {
        const ended = new Promise<JobProfile>((res) => m.on('jobEnd', (j: JobProfile) => j.id === name && res(j)));
        const got = await mpirun({
          np: 4,
          program: prog,
          args: ['ring', '600'],
          env: { SITEMPI_MONITOR: addr, SITEMPI_JOB: name },
        });
        expect(got.code).toBe(0);
        return ended;
      };
      // the first job claims all of the total (its own bound is larger), shared by its ranks; its
      // window is cut at one time for all ranks and still predicts
      const a = await run('total-a');
      const wa = replayWindowOf(a)!;
      expect(m.windows!.records).toBe(total);
      expect(wa.truncated).toBe(true);
      expect(wa.records).toBeGreaterThan(0);
      expect(wa.records).toBeLessThanOrEqual(total);
      for (const r of wa.ranks) expect(r.fn.length).toBeLessThanOrEqual(total / 4);
      expect(classify(a).predictedSlowdown!.split).not.toBeNull();
      // while the monitor keeps the first job, the second finds nothing left: no prediction, and
      // the report says why
      const b = await run('total-b');
      expect(replayWindowOf(b)!.records).toBe(0);
      expect(classify(b).predictedSlowdown!.missing).toMatch(/held all of the monitor's total \(--replay-total\)/);
      // the second job's end drops the first from the monitor (keepEndedJobs 1): its claim returns
      expect(m.windows!.records).toBe(0);
      const c = await run('total-c');
      expect(replayWindowOf(c)!.records).toBeGreaterThan(0);
      expect(m.windows!.records).toBe(total);
    } finally {
      await m.close();
    }
  }, 120_000);

  it('too few communication records: the rates rule decides and the report says why', async () => {
    const job = await fromFiles(['ring', '0'], 'ring-none');
    const c = classify(job);
    expect(c.predictedSlowdown?.split).toBeNull();
    expect(c.predictedSlowdown?.missing).toMatch(/too few records/);
    expect(c.decidedBy).toBe('rates');
    expect(c.reasons.join('\n')).toMatch(/predicted slowdown not used \(too few records/);
  }, 120_000);
});
