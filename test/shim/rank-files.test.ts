// The per-rank files of file mode (SITEMPI_OUTPUT_DIR): created exclusively with mode 0600 (a
// planted symlink or file is neither followed nor overwritten), carrying the job key in Hello,
// and on a full disk the application is unaffected while the loss is said and counted.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRankFiles } from '../../src/monitor/files.js';
import { compileMpi, mpirun, tempDir, type RunResult } from '../helpers/mpi.js';
import { isRoot } from '../helpers/root.js';

const patternsBin = compileMpi('test/shim/programs/patterns.c');
const recordsBin = compileMpi('test/shim/programs/records.c');

const smpiFiles = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.smpi'))
    .sort();

/**
 * `program` on 2 ranks, without the shim and then with it (in file mode under `env`): the
 * application must not notice (same exit code and output). The run with the shim.
 */
async function unaffected(program: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  const want = await mpirun({ np: 2, program, args, shim: false });
  const got = await mpirun({ np: 2, program, args, env });
  expect(got.code).toBe(want.code);
  expect(got.stdout).toBe(want.stdout);
  return got;
}

describe('rank files', () => {
  it("a planted symlink or file under a rank file's name is kept; the rank writes a fresh file, mode 0600", async () => {
    const dir = tempDir('planted');
    const victim = path.join(tempDir('victim'), 'precious.txt');
    fs.writeFileSync(victim, 'precious\n');
    fs.symlinkSync(victim, path.join(dir, 'sitempi-planted-0.smpi'));
    fs.writeFileSync(path.join(dir, 'sitempi-planted-1.smpi'), 'old\n');
    await unaffected(patternsBin, ['ring'], { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'planted' });
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.readFileSync(path.join(dir, 'sitempi-planted-1.smpi'), 'utf8')).toBe('old\n');
    expect(fs.lstatSync(path.join(dir, 'sitempi-planted-0.smpi')).isSymbolicLink()).toBe(true);
    const fresh = ['sitempi-planted-0.1.smpi', 'sitempi-planted-1.1.smpi'];
    expect(smpiFiles(dir)).toEqual(expect.arrayContaining(fresh));
    for (const f of fresh) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
    const jobs = await loadRankFiles(
      fresh.map((f) => path.join(dir, f)),
      { strict: true },
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0].ranks.map((r) => r?.bye !== null)).toEqual([true, true]);
    expect(jobs[0].ranks[0]?.calls).toBeGreaterThan(0);
  });

  it('a fresh run writes sitempi-<job>-<rank>.smpi with mode 0600', async () => {
    const dir = tempDir('mode');
    const got = await mpirun({
      np: 2,
      program: patternsBin,
      args: ['ring'],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'plain' },
    });
    expect(got.code).toBe(0);
    expect(smpiFiles(dir)).toEqual(['sitempi-plain-0.smpi', 'sitempi-plain-1.smpi']);
    for (const f of smpiFiles(dir)) expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
  });
});

describe('SITEMPI_JOB_KEY', () => {
  // Hello field 10 (job_key), length-delimited: tag (10 << 3) | 2, then the length.
  const helloKeyField = (key: string) => Buffer.concat([Buffer.from([(10 << 3) | 2, key.length]), Buffer.from(key)]);

  it('a valid key is sent in Hello.job_key by every rank', async () => {
    const dir = tempDir('jobkey');
    const key = crypto.randomBytes(16).toString('hex');
    const got = await mpirun({
      np: 2,
      program: patternsBin,
      args: ['ring'],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB_KEY: key },
    });
    expect(got.code).toBe(0);
    expect(got.stderr).toBe('');
    const files = smpiFiles(dir);
    expect(files).toHaveLength(2);
    for (const f of files) expect(fs.readFileSync(path.join(dir, f)).indexOf(helloKeyField(key))).toBeGreaterThan(0);
  });

  it('an invalid key: one line from rank 0, no key sent, the application unchanged', async () => {
    for (const key of ['x'.repeat(129), 'tab\there']) {
      const dir = tempDir('badkey');
      const got = await unaffected(patternsBin, ['ring'], { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB_KEY: key });
      expect(got.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^sitempi: ignoring SITEMPI_JOB_KEY \(/),
      ]);
      expect(got.stderr).not.toContain(key);
      for (const f of smpiFiles(dir)) expect(fs.readFileSync(path.join(dir, f)).indexOf(Buffer.from(key))).toBe(-1);
    }
  });
});

describe('a full disk under SITEMPI_OUTPUT_DIR', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const m of mounts) spawnSync('umount', [m]);
  });

  // A 64 KiB tmpfs (needs root to mount; CI runs as root).
  function tinyDisk(): string {
    const dir = tempDir('full');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    mounts.push(dir);
    return dir;
  }
  const lossLine =
    /^sitempi: rank (\d+): writing (\S+) failed \(No space left on device\); (\d+) of (\d+) records lost$/;

  it.skipIf(!isRoot)(
    'the application is unaffected; each rank whose file filled up says so in one line with the count, and the files stay readable',
    async () => {
      const dir = tinyDisk();
      const args = ['200000'];
      const got = await unaffected(recordsBin, args, { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'full' });
      const lines = got.stderr.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(2);
      const warnings: string[] = [];
      const jobs = await loadRankFiles([dir], { onWarning: (w) => warnings.push(w) });
      expect(warnings).toEqual([]); // cut back to whole frames: nothing truncated
      expect(jobs).toHaveLength(1);
      const seen = new Set<number>();
      for (const line of lines) {
        const [, rank, file, lost, total] =
          line.match(lossLine) ?? expect.unreachable(`unexpected stderr line: ${line}`);
        expect(seen.has(Number(rank))).toBe(false);
        seen.add(Number(rank));
        expect(path.dirname(file)).toBe(dir);
        expect(Number(lost)).toBeGreaterThan(0);
        // Every record is either in the file or counted lost.
        const kept = jobs[0].ranks[Number(rank)]?.records ?? 0;
        expect(kept + Number(lost)).toBe(Number(total));
        expect(Number(total)).toBeGreaterThan(200000);
      }
    },
  );

  it.skipIf(!isRoot)('a disk full from the start: one (empty) file per rank, every record counted lost', async () => {
    const dir = tinyDisk();
    const filler = fs.openSync(path.join(dir, 'filler'), 'w');
    try {
      for (;;) fs.writeSync(filler, Buffer.alloc(4096, 1));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(filler);
    }
    const got = await unaffected(recordsBin, ['20000'], { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'nospace' });
    expect(fs.readdirSync(dir).sort()).toEqual(['filler', 'sitempi-nospace-0.smpi', 'sitempi-nospace-1.smpi']);
    const lines = got.stderr.trimEnd().split('\n').sort();
    expect(lines).toHaveLength(2);
    lines.forEach((line, rank) => {
      const [, r, , lost, total] = line.match(lossLine) ?? expect.unreachable(`unexpected stderr line: ${line}`);
      expect(Number(r)).toBe(rank);
      expect(Number(lost)).toBe(Number(total));
    });
  });
});
