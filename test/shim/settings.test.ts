// Settings that cannot work are said once, at MPI_Init, by world rank 0 on stderr (one line each),
// and the application's output and exit code stay what they are without the shim:
// - a SITEMPI_MONITOR that names no monitor, or an SITEMPI_OUTPUT_DIR that is no writable
//   directory (every record would be lost silently);
// - a SITEMPI_SITES_FILE that is not a regular file of at most 1 MiB: a FIFO (which hung MPI_Init),
//   a device (/dev/zero was read until memory ran out), a directory (ignored silently), a file too
//   large or empty. The job then runs without the site map.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeBuildDir, shimLibraryPath } from '../../src/native/paths.js';
import { rootEnv } from '../../src/mpi/toolchain.js';
import { mpirun, tempDir } from '../helpers/mpi.js';

const demo = path.join(nativeBuildDir, 'sitempi-demo');
const NP = 2;
const ARGS = ['20000', '200'];
// Keep unreachable monitors from stretching every run to the default finalize timeout.
const QUICK = { SITEMPI_FINALIZE_TIMEOUT_MS: '200', SITEMPI_CONNECT_TIMEOUT_MS: '100' };

let baseline: Promise<{ code: number; stdout: string }> | null = null;
const plain = () => (baseline ??= mpirun({ np: NP, program: demo, args: ARGS, shim: false }));

async function runWith(env: Record<string, string>) {
  const want = await plain();
  const got = await mpirun({ np: NP, program: demo, args: ARGS, env: { ...QUICK, ...env }, timeoutMs: 40_000 });
  expect(got.code).toBe(want.code);
  expect(got.stdout).toBe(want.stdout);
  return got.stderr.split('\n').filter(Boolean);
}

describe('settings with which nothing could be recorded are reported', () => {
  const monitors: [string, RegExp][] = [
    ['garbage', /not an address/],
    ['http://127.0.0.1:7450/', /not an address/],
    ['tcp://127.0.0.1:99999', /port '99999' is not in 1\.\.65535/],
    ['tcp://127.0.0.1', /no port/],
    ['unix:', /socket path is empty/],
  ];
  for (const [value, why] of monitors) {
    it(`SITEMPI_MONITOR=${value}`, async () => {
      const lines = await runWith({ SITEMPI_MONITOR: value });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`sitempi: SITEMPI_MONITOR=${value} is unusable:`);
      expect(lines[0]).toMatch(why);
    });
  }

  it('SITEMPI_OUTPUT_DIR that does not exist, or is a file', async () => {
    const dir = tempDir('outdir');
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    for (const [value, why] of [
      [path.join(dir, 'missing', 'deeper'), /No such file or directory/],
      [file, /not a directory/],
    ] as const) {
      const lines = await runWith({ SITEMPI_OUTPUT_DIR: value });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`sitempi: SITEMPI_OUTPUT_DIR=${value} is not a writable directory`);
      expect(lines[0]).toMatch(why);
    }
  });

  it('usable settings print nothing', async () => {
    const dir = tempDir('good');
    expect(await runWith({ SITEMPI_OUTPUT_DIR: dir })).toEqual([]);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.smpi'))).toHaveLength(NP);
    expect(await runWith({ SITEMPI_MONITOR: `unix:${dir}/absent.sock` })).toEqual([]);
    expect(await runWith({ SITEMPI_MONITOR: 'tcp://[::1]:1' })).toEqual([]);
    expect(await runWith({ SITEMPI_MONITOR: 'localhost:1' })).toEqual([]); // the sender takes it without tcp://
  });
});

describe('SITEMPI_SITES_FILE is read only when it is a regular file of at most 1 MiB', () => {
  const dir = tempDir('sitesfile');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const big = path.join(dir, 'big.txt');
  fs.writeFileSync(big, `A:0\nB:1\n${'#'.repeat(1 << 20)}\n`);
  const empty = path.join(dir, 'empty.txt');
  fs.writeFileSync(empty, '');
  const cases: [string, string, RegExp][] = [
    ['a FIFO (no writer: MPI_Init used to hang)', fifo, /not a regular file/],
    ['a device (/dev/zero used to be read until memory ran out)', '/dev/zero', /not a regular file/],
    ['a directory (used to be ignored silently)', dir, /is a directory/],
    ['a file over 1 MiB', big, /larger than 1 MiB/],
    ['an empty file', empty, /empty/],
    ['a missing file', path.join(dir, 'missing.txt'), /No such file or directory/],
  ];
  for (const [what, file, why] of cases) {
    it(what, async () => {
      const lines = await runWith({ SITEMPI_SITES_FILE: file, SITEMPI_OUTPUT_DIR: dir });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`sitempi: SITEMPI_SITES_FILE (${file}) rejected:`);
      expect(lines[0]).toMatch(why);
    });
  }

  it('a regular file is still read', async () => {
    const good = path.join(dir, 'sites.txt');
    fs.writeFileSync(good, 'A: 0   # first\nB: 1\n');
    expect(await runWith({ SITEMPI_SITES_FILE: good, SITEMPI_OUTPUT_DIR: dir })).toEqual([]);
    fs.writeFileSync(good, 'A: 0\nC: 7\n');
    const lines = await runWith({ SITEMPI_SITES_FILE: good, SITEMPI_OUTPUT_DIR: dir });
    expect(lines).toEqual([expect.stringMatching(/rank 7 in site 'C' is out of range/)]);
  });
});

describe('a process started alone (a singleton, no mpirun)', () => {
  it('is named by the job id Open MPI gives it, and keeps the library TCP tick', () => {
    // The shim reads what it must know before MPI_Init apart from its configuration, which is read
    // after: a singleton's job id only exists once MPI_Init ran.
    const dir = tempDir('singleton');
    const r = spawnSync(demo, ['2000', '20'], {
      env: { ...rootEnv(), LD_PRELOAD: shimLibraryPath, SITEMPI_OUTPUT_DIR: dir, SITEMPI_VERBOSE: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.smpi'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^sitempi-\d+-0\.smpi$/); // not sitempi-pidNNN: the fallback name
    expect(r.stderr).toMatch(/recording \(job \d+, to files\)/);
    expect(r.stderr).not.toContain('mpi_event_tick_rate');
  });
});
