// What `sitempi report` and the reports make of hostile or damaged input (issue 12 items 8, 10):
// special files are refused, reading is bounded, a corrupt frame is skipped and counted, and
// records the matrix leaves out are shown.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Role, ROLE_SHIFT } from '../../src/generated/functions.js';
import { loadRankFiles, newLoadStats } from '../../src/monitor/files.js';
import { buildReport, formatText } from '../../src/report/report.js';
import { runCli, tempDirs } from '../helpers/cli.js';
import { addon, batchFrame, fnCode, helloFrame, worldCommFrame, type Rec } from './helpers.js';

const SEND = fnCode('MPI_Send', Role.Send);
const tmp = tempDirs('smrepin-');

/** A 2-rank job's rank-0 file: Hello, CommDef, `batches` batches of 100 sends of 10 bytes to rank 1, Bye. */
function rankFile(dir: string, job: string, batches: number): { file: string; frames: Buffer[] } {
  const recs: Rec[] = Array.from({ length: 100 }, () => ({ fn: SEND, peer: 1, bytes: 10 }));
  const frames = [
    helloFrame(job, 0, 2),
    worldCommFrame(2),
    ...Array.from({ length: batches }, (_, k) => batchFrame(k, recs)),
    addon.encodeBye({ endNs: 1e6, records: 100 * batches, dropped: 0, mpiNs: 1e5 }),
  ];
  const file = path.join(dir, `sitempi-${job}-0.smpi`);
  fs.writeFileSync(file, Buffer.concat(frames));
  return { file, frames };
}

describe('sitempi report on special files', () => {
  it('refuses character devices and FIFOs with one line each, at once, and still reads the regular files given with them', async () => {
    const dir = tmp();
    const { file } = rankFile(dir, 'ok', 2);
    const fifo = path.join(dir, 'sitempi-fifo-1.smpi');
    execFileSync('mkfifo', [fifo]);
    for (const special of ['/dev/zero', '/dev/urandom', fifo]) {
      const t0 = Date.now();
      const r = await runCli(['report', special]);
      expect(r.code).toBe(1);
      expect(Date.now() - t0).toBeLessThan(5000);
      const lines = r.err.trim().split('\n');
      expect(lines[0]).toMatch(
        new RegExp(`^sitempi: warning: ${special}: (a character device|a FIFO), not a regular file: not read$`),
      );
    }
    // a directory holding a FIFO among the rank files: the FIFO refused, the job reported
    const r = await runCli(['report', '--json', dir]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/sitempi-fifo-1\.smpi: a FIFO, not a regular file: not read/);
    expect(JSON.parse(r.out).jobs[0]).toMatchObject({ id: 'ok', records: 200 });
    expect(file).toBeTruthy();
  });

  it('reads at most maxFileBytes of a file, says so, and keeps what it read', async () => {
    const dir = tmp();
    const { file, frames } = rankFile(dir, 'big', 10);
    const upTo3 = frames.slice(0, 5).reduce((n, f) => n + f.length, 0); // Hello, CommDef, 3 batches
    const warnings: string[] = [];
    const jobs = await loadRankFiles([file], { maxFileBytes: upTo3 + 2, onWarning: (w) => warnings.push(w) });
    expect(jobs[0].records).toBe(300);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`read only its first ${upTo3 + 2} bytes`))]);
  });
});

describe('corrupt frames in rank files', () => {
  it('skips a frame that does not decode, counts it in the report, and reads every later frame', async () => {
    const dir = tmp();
    const { file, frames } = rankFile(dir, 'flip', 10);
    const data = Buffer.concat(frames);
    const at = frames.slice(0, 6).reduce((n, f) => n + f.length, 0) + 4; // the first body byte of batch 4
    data[at] = 0xff; // field 31, wire type 7: no protobuf decoder accepts it
    fs.writeFileSync(file, data);
    const warnings: string[] = [];
    const stats = newLoadStats();
    const jobs = await loadRankFiles([file], { stats, onWarning: (w) => warnings.push(w) });
    expect(jobs[0].records).toBe(900);
    expect(jobs[0].ranksFinished).toBe(1); // the Bye after it was read
    expect(stats.badFrames.get('flip')).toBe(1);
    expect(warnings).toEqual([
      expect.stringMatching(/1 frame that did not decode skipped \(first: frame 6: .*\); 12 read/),
    ]);
    const rep = buildReport(jobs, { badFrames: stats.badFrames }).jobs[0];
    expect(rep.dropped).toMatchObject({ badFrames: 1, lostBatches: 1, lostRecords: 100 });
    expect(formatText(jobs, { badFrames: stats.badFrames })).toMatch(
      /Corrupt data: 1 frames of the rank files did not decode and were skipped/,
    );
    const r = await runCli(['report', '--json', file]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).jobs[0].dropped.badFrames).toBe(1);
    expect(r.err).toMatch(/1 frame that did not decode skipped/);
  });
});

describe('records the matrix leaves out', () => {
  it('shows records with out-of-range peers and unknown functions in JSON and text, next to the function table', async () => {
    const dir = tmp();
    const recs: Rec[] = [
      { fn: SEND, peer: 1, bytes: 8 },
      { fn: SEND, peer: 7, bytes: 1000 }, // peer beyond the job's 2 ranks
      { fn: 500 | (Role.Send << ROLE_SHIFT), peer: 1, bytes: 3 }, // a function id this monitor does not know
    ];
    const file = path.join(dir, 'sitempi-peers-0.smpi');
    fs.writeFileSync(
      file,
      Buffer.concat([
        helloFrame('peers', 0, 2),
        worldCommFrame(2),
        batchFrame(0, recs),
        addon.encodeBye({ endNs: 1e6, records: 3, dropped: 0, mpiNs: 1e5 }),
      ]),
    );
    const jobs = await loadRankFiles([file]);
    const j = buildReport(jobs).jobs[0];
    expect(j.functions.find((f) => f.name === 'MPI_Send')?.bytes).toBe(1008);
    expect(j.matrix!.bytes[0][1]).toBe(8);
    expect(j.dropped).toMatchObject({ invalidPeerRecords: 1, unknownFunctionRecords: 1 });
    expect(j.ranks[0]).toMatchObject({ invalidPeerRecords: 1, unknownFunctionRecords: 1 });
    const text = formatText(jobs);
    expect(text).toMatch(/Top functions by bytes \(every call record: also those with invalid peers/);
    expect(text).toMatch(
      /Invalid peers: 1 records name a peer outside 0\.\.1 \(rank 0: 1\): the function tables count them, the matrix and the pairs leave them out/,
    );
    expect(text).toMatch(/Unknown functions: 1 call records/);
    // nothing to say when nothing was left out
    expect(formatText(await loadRankFiles([rankFile(dir, 'clean', 1).file]))).not.toMatch(
      /Invalid peers|Unknown functions|Corrupt data/,
    );
  });
});
