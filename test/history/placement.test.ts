// Placement from history with real ranks (mpirun, the shim, the monitor in process): a
// network-intensive job spread over two sites is consolidated by the policy after it has been
// measured the first time; run again under the same name, it is consolidated from its history at
// its first placement, before it has run, and the report says where the verdict came from.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../src/history/recorder.js';
import { Monitor } from '../../src/monitor/monitor.js';
import type { JobProfile } from '../../src/monitor/job.js';
import { placementReport } from '../../src/placement/report.js';
import { PlacementService, type PlacementHistory } from '../../src/placement/service.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const token = crypto.randomBytes(8).toString('hex');
let dir: string;
let program: string;
let monitor: Monitor;
let svc: PlacementService;
let history: HistoryRecorder;
let address: string;
const ended = new Map<string, (h: PlacementHistory) => void>();

beforeAll(async () => {
  dir = tempDir('smhist');
  program = compileMpi(path.join(here, 'pingpong.c'));
  monitor = new Monitor({ token, updateIntervalMs: 100 });
  svc = new PlacementService(monitor, {
    sites: 'A:0-1;B:2-3',
    policy: { evaluateEveryMs: 100, minObserveSeconds: 1, requireGain: false },
  });
  await svc.start();
  history = HistoryRecorder.open(path.join(dir, 'history.db'), { log: () => undefined });
  history.attach(svc);
  monitor.on('jobEnd', (job: JobProfile) => {
    void job.prepare().then(() => {
      history.record(job, svc);
      ended.get(job.id)?.(svc.history(job)!);
    });
  });
  [address] = await monitor.listen(`unix:${path.join(dir, 'monitor.sock')}`);
}, 120_000);

afterAll(async () => {
  await monitor?.close();
  await svc?.close();
  history?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** One run of the ping-pong job named `name`; resolves with its placement history once recorded. */
async function runJob(name: string): Promise<PlacementHistory> {
  const jobId = `${name}-${crypto.randomBytes(3).toString('hex')}`;
  const key = crypto.randomBytes(8).toString('hex');
  monitor.registerJob(jobId, { key });
  history.names.set(jobId, name);
  const done = new Promise<PlacementHistory>((resolve) => ended.set(jobId, resolve));
  const r = await mpirun({
    np: 4,
    program,
    args: ['2.5'],
    env: { SITEMPI_MONITOR: address, SITEMPI_TOKEN: token, SITEMPI_JOB: jobId, SITEMPI_JOB_KEY: key },
    timeoutMs: 90_000,
  });
  expect(r.stdout).toMatch(/pingpong ok/);
  return await done;
}

describe('placement from history (real ranks)', () => {
  it('a network-intensive job is moved by the policy the first time, placed on one site from the start the second', async () => {
    const first = await runJob('pp');
    expect(first.fromHistory).toBeNull();
    expect(first.timeline[0]).toMatchObject({ epoch: 1, siteOf: [0, 0, 1, 1], source: 'config' });
    expect(first.relocations.map((r) => r.trigger)).toEqual(['policy']);
    const policyAt = first.timeline[1].jobSeconds;
    expect(policyAt).toBeGreaterThanOrEqual(1); // measured first (minObserveSeconds)
    expect(placementReport(first).verdictSource).toBe('measured');

    const [past] = history.store.list({ name: 'pp' });
    expect(past).toMatchObject({ verdict: 'network-intensive', size: 4, startVerdict: null });
    expect(past.relocations.map((r) => r.trigger)).toEqual(['policy']);

    const second = await runJob('pp');
    expect(second.fromHistory).toMatchObject({ name: 'pp', verdict: 'network-intensive', runs: 1 });
    expect(second.relocations.map((r) => r.trigger)).toEqual(['history']);
    expect(second.relocations[0].ok).toBe(true);
    const [, consolidated] = second.timeline;
    expect(new Set(consolidated.siteOf).size).toBe(1);
    // from its first placement, before the policy could have measured anything
    expect(consolidated.jobSeconds).toBeLessThan(policyAt);
    expect(consolidated.jobSeconds).toBeLessThan(1);
    const rep = placementReport(second);
    expect(rep.verdictSource).toBe('history');
    expect(rep.historyVerdict).toMatchObject({ verdict: 'network-intensive', jobId: past.jobId });

    const runs = history.store.list({ name: 'pp' });
    expect(runs).toHaveLength(2);
    expect(runs[0].startVerdict).toEqual({ verdict: 'network-intensive', fromJob: past.jobId });

    // a name without history: measured, as before
    const other = await runJob('fresh');
    expect(other.fromHistory).toBeNull();
    expect(other.relocations.map((r) => r.trigger)).toEqual(['policy']);
  }, 240_000);
});
