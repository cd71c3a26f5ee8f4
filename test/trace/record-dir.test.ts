// `--record-dir` / `--trace` of `sitempi run`: a real mpirun job streams to the embedded monitor,
// which relocates it through a command hook; the monitor keeps each rank's accepted stream as a
// rank file. The files' report equals the monitor's, their trace has every rank and the
// relocation, and a job past --record-max-bytes stops at whole frames with a note.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRankFiles } from '../../src/monitor/files.js';
import { baseMpirunArgs } from '../../src/mpi/toolchain.js';
import { nativeBuildDir } from '../../src/native/paths.js';
import type { JobReport } from '../../src/report/types.js';
import { cliProcess, lastJson, runCli as cli, tempDirs } from '../helpers/cli.js';
import { until } from '../helpers/fake-rank.js';
import { compileMpi, mpirun } from '../helpers/mpi.js';
import { checkTrace } from './check-trace.js';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

const soak = compileMpi('test/relocation/programs/soak.c');
const NP = 4;
const tmp = tempDirs('sitempi-record-dir-');

type Job = Pick<JobReport, 'records' | 'matrix' | 'ranks' | 'functions' | 'placementSwitches'>;
const essentials = (j: Job) => ({
  records: j.records,
  matrix: j.matrix?.bytes,
  ranks: j.ranks.map((r) => [r.rank, r.records, r.calls, r.finished]),
  functions: j.functions.map((f) => [f.name, f.count, f.bytes]).sort(),
  // communicator indices follow the order the ranks announced them (interleaved for the monitor,
  // file by file for the report): compared without them
  switches: j.placementSwitches.map((w) => [w.commSize, w.epoch, w.call, w.jobSeconds, w.ranks].join(' ')).sort(),
});

/** `sitempi report --json REC`: one job, whose essentials are `job`'s; the command's result. */
async function expectFilesReport(rec: string, job: Job) {
  const rep = await cli(['report', '--json', rec]);
  expect(rep.code, rep.err).toBe(0);
  const fromFiles = lastJson(rep.out).jobs;
  expect(fromFiles).toHaveLength(1);
  expect(fromFiles[0].records).toBeGreaterThan(0);
  expect(essentials(fromFiles[0])).toEqual(essentials(job));
  return rep;
}

describe('sitempi run --record-dir', () => {
  it('a relocated job: the files report what the monitor reported, the trace shows every rank and the relocation', async () => {
    const dir = tmp();
    const rec = path.join(dir, 'rec');
    const hook = path.join(dir, 'hook.cjs');
    const asked = path.join(dir, 'input.json');
    const stop = path.join(dir, 'stop');
    // the hook moves the ranks where asked; the program is told to stop once the recording shows
    // every rank of MPI_COMM_WORLD switched to the relocation's epoch (read while it is written)
    fs.writeFileSync(
      hook,
      `let s = ''; process.stdin.on('data', (d) => { s += d; }); process.stdin.on('end', () => {
  require('fs').writeFileSync(${JSON.stringify(asked)}, s);
  console.log(JSON.stringify(JSON.parse(s).target)); });\n`,
    );
    const reportFile = path.join(dir, 'r.json');
    const traceFile = path.join(dir, 't.json');
    const env = { SITEMPI_CHECKPOINT_EVERY: '4', SITEMPI_FLUSH_MS: '100' };
    Object.assign(process.env, env);
    let running = true;
    const watcher = (async () => {
      while (running) {
        await sleep(300);
        const jobs = await loadRankFiles([rec]).catch(() => []);
        if (jobs.some((j) => j.placementSwitches().some((w) => w.epoch >= 2 && w.ranks === NP)))
          return fs.writeFileSync(stop, '');
      }
    })();
    let r;
    try {
      r = await cli([
        'run',
        '--json',
        '--report',
        reportFile,
        '--no-progress',
        '--record-dir',
        rec,
        '--trace',
        traceFile,
        '--sites',
        'A:0,1;B:2,3',
        '--executor-command',
        `node ${hook}`,
        '--threshold',
        '100',
        '--min-observe',
        '0.3',
        '--evaluate-every',
        '0.3',
        '--vm-memory',
        '64MiB',
        '--no-gain-check',
        '-np',
        String(NP),
        ...baseMpirunArgs,
        '--',
        soak,
        stop,
        '40',
      ]);
    } finally {
      running = false;
      await watcher;
      for (const k of Object.keys(env)) delete process.env[k];
    }
    expect(r.code, r.err).toBe(0);
    const job = JSON.parse(fs.readFileSync(reportFile, 'utf8')).jobs[0];
    expect(job.placement.relocations.length, r.err).toBeGreaterThan(0);
    const epochAfter: number = job.placement.relocations[0].epochAfter;

    // one file per rank, 0600, named as the shim names them
    const files = fs.readdirSync(rec).sort();
    expect(files).toEqual(Array.from({ length: NP }, (_, i) => `sitempi-${job.id}-${i}.smpi`).sort());
    for (const f of files) expect(fs.statSync(path.join(rec, f)).mode & 0o777).toBe(0o600);
    expect(r.err).toMatch(new RegExp(`job ${job.id}: ${NP} rank files, \\d+ bytes recorded in ${rec}`));

    // the files' report is the monitor's
    expect((await expectFilesReport(rec, job)).err).toBe('');

    // the trace of `run --trace` (the same as `report --trace` of the directory)
    for (const t of [traceFile, path.join(dir, 't2.json')]) {
      if (t !== traceFile) expect((await cli(['report', '--trace', t, rec])).code).toBe(0);
      const tr = checkTrace(fs.readFileSync(t, 'utf8'));
      for (let rank = 0; rank < NP; rank++) {
        expect(tr.threads.get(`1:${rank}`)).toMatch(new RegExp(`^rank ${rank} `));
        expect(tr.calls.get(`1:${rank}`)!.length).toBeGreaterThan(0);
        const sw = tr.instants.filter((e) => e.tid === rank && e.name === `placement switch: epoch ${epochAfter}`);
        expect(sw.length).toBeGreaterThan(0);
      }
      const reloc = tr.instants.filter((e) => e.s === 'g' && e.name === `relocation: epoch ${epochAfter}`);
      expect(reloc).toHaveLength(1);
      expect(reloc[0].args!.ranks_switched).toBe(NP);
    }
    expect(r.err).toMatch(new RegExp(`trace of ${NP} ranks, \\d+ calls: ${traceFile}`));
  }, 120_000);

  it('--trace alone: the trace is written, the temporary recording removed', async () => {
    const dir = tmp();
    const traceFile = path.join(dir, 't.json');
    const before = new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('sitempi-trace-')));
    const r = await cli([
      'run',
      '--no-progress',
      '--trace',
      traceFile,
      '-np',
      '2',
      ...baseMpirunArgs,
      '--',
      path.join(nativeBuildDir, 'sitempi-demo'),
      '200',
      '1000',
    ]);
    expect(r.code, r.err).toBe(0);
    const tr = checkTrace(fs.readFileSync(traceFile, 'utf8'));
    for (const rank of [0, 1]) expect(tr.calls.get(`1:${rank}`)!.length).toBeGreaterThan(0);
    const after = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('sitempi-trace-') && !before.has(n));
    expect(after).toEqual([]);
  }, 60_000);

  it('--record-max-bytes: the files stop at whole frames under the cap, with a note; a planted link is not followed', async () => {
    const dir = tmp();
    const rec = path.join(dir, 'rec');
    fs.mkdirSync(rec);
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'keep');
    fs.symlinkSync(victim, path.join(rec, 'sitempi-capped-0.smpi'));
    const cap = 40_000;
    process.env.SITEMPI_FLUSH_MS = '20'; // small batches: the cap falls after some of them
    const r = await cli([
      'run',
      '--json',
      '--no-progress',
      '--job',
      'capped',
      '--record-dir',
      rec,
      '--record-max-bytes',
      String(cap),
      '-np',
      '2',
      ...baseMpirunArgs,
      '--',
      path.join(nativeBuildDir, 'sitempi-demo'),
      '20000',
      '1000',
    ]).finally(() => delete process.env.SITEMPI_FLUSH_MS);
    expect(r.code, r.err).toBe(0);
    const full = lastJson(r.out).jobs[0];
    expect(r.err).toMatch(
      new RegExp(`job ${full.id}: recording stopped after \\d+ bytes: reached the cap of ${cap} bytes`),
    );
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep');
    expect(fs.readdirSync(rec).sort()).toEqual([
      'sitempi-capped-0.1.smpi',
      'sitempi-capped-0.smpi',
      'sitempi-capped-1.smpi',
    ]);
    fs.unlinkSync(path.join(rec, 'sitempi-capped-0.smpi'));
    const sizes = fs.readdirSync(rec).map((f) => fs.statSync(path.join(rec, f)).size);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(total).toBeLessThanOrEqual(cap);
    // whole frames: the files read without a warning of a cut frame, and hold fewer records
    const rep = await cli(['report', '--json', rec]);
    expect(rep.err).not.toMatch(/truncated|did not decode/);
    const part = lastJson(rep.out).jobs[0];
    expect(part.records).toBeGreaterThan(0);
    expect(part.records).toBeLessThan(full.records);
  }, 60_000);

  it('sitempi monitor --record-dir: the files of a job it monitored report what it reported', async () => {
    const dir = tmp();
    const rec = path.join(dir, 'rec');
    const sock = path.join(dir, 'monitor.sock');
    const argv = ['monitor', '--json', '--listen', `unix:${sock}`, '--token', 'tok', '--record-dir', rec];
    const child = cliProcess(argv);
    let out = '',
      err = '';
    child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    child.stderr!.on('data', (d: Buffer) => (err += String(d)));
    try {
      await until(() => /listening on/.test(err) || child.exitCode !== null, 60_000, 'the monitor');
      const env = { SITEMPI_MONITOR: `unix:${sock}`, SITEMPI_TOKEN: 'tok', SITEMPI_JOB: 'm1' };
      const program = path.join(nativeBuildDir, 'sitempi-demo');
      const r = await mpirun({ np: 3, program, args: ['300', '500'], env });
      expect(r.code, r.stderr).toBe(0);
      await until(() => /job m1: 3 rank files, \d+ bytes recorded in /.test(err) && /"m1"/.test(out), 30_000, err);
    } finally {
      child.kill('SIGTERM');
    }
    await new Promise((res) => child.once('exit', res));
    const job = lastJson(out).jobs[0];
    await expectFilesReport(rec, job);
  }, 90_000);

  it('refuses --record-max-bytes without a recording, and a bad size', async () => {
    let r = await cli(['run', '--record-max-bytes', '1MiB', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--record-max-bytes needs --record-dir DIR or --trace FILE/);
    r = await cli(['run', '--record-dir', tmp(), '--record-max-bytes', 'lots', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a size: lots/);
    r = await cli(['run', '--no-progress', '--record-dir', path.join(tmp(), 'a', 'b'), '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--record-dir \S+: ENOENT/);
    r = await cli(['monitor', '--record-max-bytes', '1MiB']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--record-max-bytes needs --record-dir DIR/);
  });
});
