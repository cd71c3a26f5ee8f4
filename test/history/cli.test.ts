// sitempi run --history/--name and sitempi history: a real run is kept, listed, and its numbers
// equal the run's JSON report; files that are not a history are refused with a clear error.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { HistoryJob } from '../../src/history/store.js';
import type { Report } from '../../src/report/types.js';
import { HistoryStore } from '../../src/history/store.js';
import { cliProcess, runCli as cli } from '../helpers/cli.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { until } from '../helpers/fake-rank.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = tempDir('smhist-cli');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sitempi history', () => {
  it('keeps a sitempi run under its name; history --json equals the JSON report', async () => {
    const program = compileMpi(path.join(here, 'pingpong.c'));
    const db = path.join(dir, 'h.db');
    const reportFile = path.join(dir, 'report.json');
    const base = ['run', '--history', db, '--json', '--report', reportFile, '--no-progress', '--wait', '2000'];
    const mpi = ['--oversubscribe', '--mca', 'mpi_yield_when_idle', '1', '-np', '2', '--', program, '0.3'];
    const r = await cli([...base, '--name', 'nightly', ...mpi]);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
    const [job] = rep.jobs;
    const r2 = await cli([...base, ...mpi]); // no --name: the program's file name
    expect(r2.code, r2.err).toBe(0);

    const h = await cli(['history', '--json', '--full', '--history', db, 'nightly']);
    expect(h.code, h.err).toBe(0);
    const got = JSON.parse(h.out) as { schema: number; jobs: HistoryJob[] };
    expect(got.jobs).toHaveLength(1);
    const j = got.jobs[0];
    expect(j).toMatchObject({
      jobId: job.id,
      name: 'nightly',
      program: job.program,
      size: 2,
      records: job.records,
      verdict: job.classification.verdict,
      rules: job.classification.rules,
    });
    expect(j.wallSeconds).toBeCloseTo(job.wallSeconds, 9);
    expect(j.mpiSeconds).toBeCloseTo(job.mpiSeconds, 6);
    expect(j.classification.crossBytes).toBe(job.classification.numbers.crossBytes);
    const sum = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
    expect(j.bytes).toBe(sum(job.matrix!.bytes));
    expect(j.messages).toBe(sum(job.matrix!.messages));
    expect(j.matrix!.cells.reduce((a, c) => a + c[2], 0)).toBe(j.bytes);
    expect(j.matrix!.cells.map((c) => [c[0], c[1], c[2]])).toEqual([
      [0, 1, job.matrix!.bytes[0][1]],
      [1, 0, job.matrix!.bytes[1][0]],
    ]);
    expect(j.functions!.map((f) => [f.name, f.calls]).sort()).toEqual(
      job.functions.map((f) => [f.name, f.count]).sort(),
    );

    const all = await cli(['history', '--history', db]);
    expect(all.code).toBe(0);
    expect(all.out).toMatch(/nightly/);
    expect(all.out).toContain(path.basename(program));
    expect(all.out.trim().split('\n')).toHaveLength(3); // header + 2 runs
  }, 120_000);

  it('sitempi monitor --history keeps every job that ends, named after its program', async () => {
    const program = compileMpi(path.join(here, 'pingpong.c'));
    const db = path.join(dir, 'monitor.db');
    const sock = path.join(dir, 'monitor.sock');
    const argv = ['monitor', '--listen', `unix:${sock}`, '--history', db, '--token', 'tok'];
    const child = cliProcess(argv, { SITEMPI_HISTORY_DEBUG: '1' }, ['ignore', 'ignore', 'pipe']);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += String(d)));
    try {
      await until(() => /listening on/.test(err) || child.exitCode !== null, 60_000);
      const env = { SITEMPI_MONITOR: `unix:${sock}`, SITEMPI_TOKEN: 'tok', SITEMPI_JOB: 'm1' };
      const r = await mpirun({ np: 2, program, args: ['0.2'], env });
      expect(r.code, r.stderr).toBe(0);
      await until(() => /history: job m1 \(pingpong\S*\) written in [0-9.]+ ms/.test(err), 30_000);
    } finally {
      child.kill('SIGTERM');
    }
    await new Promise((res) => child.once('exit', res));
    const store = HistoryStore.open(db, { readonly: true });
    try {
      const [j] = store.list();
      expect(j).toMatchObject({ jobId: 'm1', name: path.basename(program), size: 2, endReason: 'complete' });
      expect(j.bytes).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 120_000);

  it('refuses a file that is not a history database, before running anything', async () => {
    const bad = path.join(dir, 'notes.txt');
    fs.writeFileSync(bad, 'my notes, not a database\n'.repeat(100));
    const h = await cli(['history', '--history', bad]);
    expect(h.code).toBe(1);
    expect(h.err).toMatch(/not a sitempi history database/);
    const r = await cli(['run', '--history', bad, '--no-progress', '--', '/bin/true']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not a sitempi history database/);
    expect(fs.readFileSync(bad, 'utf8')).toMatch(/^my notes/);
    const none = await cli(['history', '--history', path.join(dir, 'absent.db')]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no history database/);
  });
});
