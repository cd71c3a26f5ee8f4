// Classification, the JSON/text report, per-rank files and the CLI.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Role } from '../../src/generated/functions.js';
import { classify, classifyNumbers } from '../../src/monitor/classify.js';
import { loadRankFiles } from '../../src/monitor/files.js';
import { buildReport, formatText } from '../../src/report/report.js';
import { main } from '../../src/cli/main.js';
import { baseMpirunArgs } from '../../src/mpi/toolchain.js';
import { nativeBuildDir } from '../../src/native/paths.js';
import { addon, batchFrame, fnCode, helloFrame, worldCommFrame, type Rec } from './helpers.js';

const SEND = fnCode('MPI_Send', Role.Send);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'smrep-'));

/**
 * Writes per-rank files of a job in which every rank sends `msgs` messages of `bytes` to
 * `peerOf(rank)` and spends `mpiNs` of `wallNs` in MPI.
 */
function writeJob(
  dir: string,
  job: string,
  P: number,
  peerOf: (r: number) => number,
  msgs: number,
  bytes: number,
  wallNs: number,
  mpiNs: number,
): string[] {
  const files: string[] = [];
  for (let r = 0; r < P; r++) {
    const recs: Rec[] = Array.from({ length: msgs }, (_, i) => ({
      fn: SEND,
      peer: peerOf(r),
      bytes,
      // spread over the wall time: the communicating phase is all of it
      start: Math.round((i * (wallNs - 1)) / Math.max(1, msgs - 1)),
      duration: 1,
    }));
    const f = path.join(dir, `sitempi-${job}-${r}.smpi`);
    fs.writeFileSync(
      f,
      Buffer.concat([
        helloFrame(job, r, P),
        worldCommFrame(P),
        batchFrame(0, recs),
        addon.encodeBye({ endNs: wallNs, records: msgs, dropped: 0, mpiNs }),
      ]),
    );
    files.push(f);
  }
  return files;
}

describe('classification', () => {
  const base = { ranks: 8, wallSeconds: 10, totalBytes: 1e9, totalMessages: 1e3, crossMessages: 100 };
  it('applies the documented rule with its parameters', () => {
    expect(classifyNumbers({ ...base, mpiFraction: 0.1, crossBytes: 200e6 }).verdict).toBe('network-intensive'); // 20 MB/s
    expect(classifyNumbers({ ...base, mpiFraction: 0.1, crossBytes: 50e6 }).verdict).toBe('compute-intensive'); // 5 MB/s
    const mpiBound = classifyNumbers({ ...base, mpiFraction: 0.7, crossBytes: 50e6 });
    expect(mpiBound.verdict).toBe('network-intensive');
    expect(mpiBound.rules).toEqual(['mpi-bound']);
    expect(classifyNumbers({ ...base, mpiFraction: 0.7, crossBytes: 5e6 }).verdict).toBe('compute-intensive'); // 0.5 MB/s
    expect(classifyNumbers({ ...base, mpiFraction: 0.7, crossBytes: 5e6, crossMessages: 20_000 }).rules).toEqual([
      'latency-bound',
    ]);
    expect(
      classifyNumbers({ ...base, mpiFraction: 0.1, crossBytes: 50e6 }, { thresholdBytesPerSecond: 4e6 }).verdict,
    ).toBe('network-intensive');
    const c = classifyNumbers({ ...base, mpiFraction: 0.1, crossBytes: 200e6 });
    expect(c.numbers.crossBytesPerSecond).toBe(20e6);
    expect(c.reasons.join(' ')).toMatch(/20\.0 MB\/s/);
    expect(classifyNumbers({ ...base, ranks: 1, mpiFraction: 0.9, crossBytes: 0 }).verdict).toBe('compute-intensive');
  });

  it('gives both verdicts on jobs: all-to-neighbour across the halves vs within them', async () => {
    const dir = tmp();
    const P = 8;
    // 100 messages of 1 MB per rank in 1 s; across the halves: 8 x 100 MB/s cross
    const heavy = await loadRankFiles(writeJob(dir, 'heavy', P, (r) => (r + P / 2) % P, 100, 1e6, 1e9, 0.2e9));
    const ch = classify(heavy[0]);
    expect(ch.verdict).toBe('network-intensive');
    expect(ch.numbers.crossBytes).toBe(P * 100 * 1e6);
    expect(ch.numbers.crossBytesPerSecond).toBeCloseTo(800e6, -3);
    expect(ch.numbers.mpiFraction).toBeCloseTo(0.2, 6);
    // the same traffic inside each half crosses nothing
    const local = await loadRankFiles(
      writeJob(
        dir,
        'local',
        P,
        (r) => (r < P / 2 ? (r + 1) % (P / 2) : P / 2 + ((r + 1) % (P / 2))),
        100,
        1e6,
        1e9,
        0.2e9,
      ),
    );
    const cl = classify(local[0]);
    expect(cl.verdict).toBe('compute-intensive');
    expect(cl.numbers.crossBytes).toBe(0);
    expect(cl.numbers.totalBytes).toBe(P * 100 * 1e6);
    // a different split makes it cross
    expect(classify(local[0], { split: [0, 1, 0, 1, 0, 1, 0, 1] }).verdict).toBe('network-intensive');
  });
});

describe('report', () => {
  it('has the documented JSON shape', async () => {
    const dir = tmp();
    const P = 4;
    const jobs = await loadRankFiles(writeJob(dir, 'ring', P, (r) => (r + 1) % P, 10, 100, 2e6, 1e6));
    const rep = JSON.parse(JSON.stringify(buildReport(jobs))) as ReturnType<typeof buildReport>;
    expect(rep.schema).toBe(2);
    expect(rep.jobs).toHaveLength(1);
    const j = rep.jobs[0];
    expect(j).toMatchObject({ id: 'ring', size: P, complete: true, program: './fake', ranksSeen: P, ranksFinished: P });
    const want = Array.from({ length: P }, (_, s) =>
      Array.from({ length: P }, (_, d) => (d === (s + 1) % P ? 1000 : 0)),
    );
    expect(j.matrix!.bytes).toEqual(want);
    expect(j.matrix!.messages).toEqual(want.map((row) => row.map((v) => v / 100)));
    expect(j.classification.verdict).toMatch(/^(network|compute)-intensive$/);
    expect(j.classification.reasons.length).toBeGreaterThan(0);
    expect(j.functions).toEqual([
      { name: 'MPI_Send', id: 0, kind: 'send', count: 40, bytes: 4000, seconds: 40e-9, mpiShare: 1 },
    ]);
    expect(j.ranks).toHaveLength(P);
    expect(j.ranks[0]).toMatchObject({
      rank: 0,
      host: 'h0',
      pid: 1000,
      finished: true,
      wallSeconds: 2e-3,
      mpiSeconds: 1e-3,
      mpiFraction: 0.5,
    });
    expect(j.dropped).toEqual({
      records: 0,
      lostBatches: 0,
      lostRecords: 0,
      duplicateBatches: 0,
      invalidPeerRecords: 0,
      unknownFunctionRecords: 0,
      badFrames: 0,
    });
    expect(j.topPairs[0]).toEqual({ src: 0, dst: 1, bytes: 1000, messages: 10 });
    expect(j.histograms!.pairs[0]).toMatchObject({ src: 0, dst: 1 });
    expect(j.histograms!.pairs[0].counts[7]).toBe(10); // 100 bytes: [64, 128)
    expect(j.histograms!.bucketMinBytes[7]).toBe(64);
    expect(j.epochs).toEqual([]);
    const text = formatText(jobs);
    expect(text).toContain('Time in MPI per rank');
    expect(text).toContain('Top functions by time');
    expect(text).toContain('Heaviest rank pairs');
    expect(text).toContain('Classification: ');
  });

  it('reads truncated files with a warning, keeping what came before', async () => {
    const dir = tmp();
    const [f0, f1] = writeJob(dir, 'cut', 2, (r) => 1 - r, 5, 10, 1e6, 1e5);
    const whole = fs.readFileSync(f1);
    fs.writeFileSync(f1, whole.subarray(0, whole.length - 3)); // Bye cut off
    const warnings: string[] = [];
    const jobs = await loadRankFiles([f0, f1], { onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/truncated/);
    expect(jobs[0].matrix().bytes.num(2)).toBe(50);
    expect(jobs[0].ranksFinished).toBe(1);
    await expect(loadRankFiles([f1], { strict: true })).rejects.toThrow(/truncated/);
  });
});

describe('CLI', () => {
  let out = '';
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      out += String(s);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // silenced
  };

  it('report --json FILES and directories', async () => {
    const dir = tmp();
    writeJob(dir, 'cli', 2, (r) => 1 - r, 3, 7, 1e6, 1e5);
    capture();
    expect(await main(['report', '--json', dir])).toBe(0);
    const rep = JSON.parse(out) as { jobs: Array<{ matrix: { bytes: number[][] } }> };
    expect(rep.jobs[0].matrix.bytes).toEqual([
      [0, 21],
      [21, 0],
    ]);
    capture();
    expect(await main(['report', path.join(dir, 'sitempi-cli-0.smpi'), '--top', '3'])).toBe(0);
    expect(out).toContain('sitempi: job cli');
    capture();
    expect(await main(['report'])).toBe(2);
    expect(await main(['bogus'])).toBe(2);
    expect(await main(['--help'])).toBe(0);
    expect(out).toContain('sitempi run');
  });

  it('run --json: a real MPI program under the shim, exit code and report', async () => {
    const demo = path.join(nativeBuildDir, 'sitempi-demo');
    const reportFile = path.join(tmp(), 'r.json');
    const code = await main(['run', '--json', '--report', reportFile, '-np', '2', ...baseMpirunArgs, '--', demo]);
    expect(code).toBe(0);
    const rep = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as {
      jobs: Array<{
        size: number;
        complete: boolean;
        matrix: { messages: number[][] };
        functions: Array<{ name: string; count: number }>;
      }>;
    };
    expect(rep.jobs).toHaveLength(1);
    expect(rep.jobs[0]).toMatchObject({ size: 2, complete: true });
    expect(rep.jobs[0].matrix.messages[0][1]).toBeGreaterThan(0);
    expect(rep.jobs[0].functions.find((f) => f.name === 'MPI_Finalize')?.count).toBe(2);
    // a failing program's exit code comes through
    expect(await main(['run', '--no-progress', '-np', '1', '--', '/bin/sh', '-c', 'exit 3'])).toBe(3);
  }, 60_000);
});
