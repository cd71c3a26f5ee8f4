// Recording walks exactly the entries of a collective's per-peer arrays: one per remote rank on an
// intercommunicator (5 ranks split 2 + 3, so the arrays are longer or shorter than the local
// group), one per topology neighbour for the neighbourhood collectives (Cartesian, graph and
// distributed graph, with unequal in- and out-degrees), and none when the call failed (an erroneous
// call under MPI_ERRORS_RETURN, without arrays, crashed the shim). The program allocates each
// array with exactly the entries MPI reads and prints what it sends; the test checks the recorded
// bytes against that, and runs it again under a shim built with AddressSanitizer, where reading one
// entry too many fails the run even when it would not crash.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { buildVariant } from '../helpers/cmake.js';
import { isRoot } from '../helpers/root.js';
import { Role } from '../../src/generated/facts.js';
import { readRankFile } from '../coll/records.js';

const NP = 5;
const program = compileMpi('test/shim/programs/peer_arrays.c', ['-Wno-stringop-overread', '-Wno-nonnull']);

/** "expect FN total B" / "expect FN part PEER B" lines, summed per key. */
function expected(stdout: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] !== 'expect') continue;
    const key = w[2] === 'total' ? `${w[1]} total` : `${w[1]} part ${w[3]}`;
    m.set(key, (m.get(key) ?? 0) + Number(w[w.length - 1]));
  }
  return m;
}

/** The same keys from the rank files: primary records' bytes and PartSend records' bytes by peer. */
function recorded(dir: string, fns: Set<string>): Map<string, number>[] {
  const perRank: Map<string, number>[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.smpi'))) {
    const rf = readRankFile(path.join(dir, f));
    const m = new Map<string, number>();
    for (const r of rf.records) {
      if (!fns.has(r.fn)) continue;
      const key = r.role === Role.Coll ? `${r.fn} total` : r.role === Role.PartSend ? `${r.fn} part ${r.peer}` : null;
      if (key) m.set(key, (m.get(key) ?? 0) + r.bytes);
    }
    perRank[rf.rank] = m;
  }
  return perRank;
}

describe('per-peer arrays on intercommunicators and topologies', () => {
  it('records the bytes each rank sends, entry by entry, and the data arrive unchanged', async () => {
    const plain = await mpirun({ np: NP, program, shim: false });
    expect(plain.code).toBe(0);
    const dir = tempDir('peers');
    const got = await mpirun({ np: NP, program, env: { SITEMPI_OUTPUT_DIR: dir } });
    expect(got.code).toBe(0);
    expect(got.stderr).toBe('');
    const checks = (s: string) =>
      s
        .split('\n')
        .filter((l) => l.startsWith('check'))
        .sort();
    expect(checks(got.stdout)).toEqual(checks(plain.stdout));
    expect(checks(got.stdout).every((l) => l.endsWith(' ok'))).toBe(true);

    // The program's own arithmetic, all ranks together, against the records of all ranks.
    const want = expected(got.stdout);
    const fns = new Set([...want.keys()].map((k) => k.split(' ')[0]));
    expect(fns.size).toBe(10); // 4 intercommunicator v/w + 6 neighbourhood functions
    const ranks = recorded(dir, fns);
    expect(ranks.filter(Boolean)).toHaveLength(NP);
    const all = new Map<string, number>();
    for (const m of ranks) for (const [k, v] of m) all.set(k, (all.get(k) ?? 0) + v);
    expect(Object.fromEntries([...all].sort())).toEqual(Object.fromEntries([...want].sort()));
  });

  const libasan = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  const haveAsan = path.isAbsolute(libasan) && fs.existsSync(libasan);
  const noAsan = 'gcc has no libasan (apt-get install libasan8)';
  // Skipped only where libasan cannot be installed (not root); as root (CI, where .ci/install
  // installs it) its absence fails the suite.
  if (!haveAsan && !isRoot) console.warn(`peer-arrays: skipped the AddressSanitizer run: ${noAsan}`);

  describe.skipIf(!haveAsan && !isRoot)('under AddressSanitizer', () => {
    let shim = '';
    beforeAll(async () => {
      if (!haveAsan) throw new Error(`peer-arrays: ${noAsan}: run bash .ci/install`);
      const flags = '-fsanitize=address -fno-omit-frame-pointer';
      const outDir = await buildVariant(
        'asan-shim',
        { CMAKE_CXX_FLAGS: flags, CMAKE_SHARED_LINKER_FLAGS: '-fsanitize=address' },
        ['sitempi_shim'],
      );
      shim = path.join(outDir, 'libsitempi.so');
    }, 900_000);

    it('no read past an array the application passed', async () => {
      const dir = tempDir('peers-asan');
      const got = await mpirun({
        np: NP,
        program,
        shim: false,
        timeoutMs: 180_000,
        env: {
          LD_PRELOAD: `${libasan}:${shim}`,
          // Open MPI's own allocations are not this test's business; any error report fails the run.
          ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:exitcode=86',
          SITEMPI_OUTPUT_DIR: dir,
        },
      });
      expect(got.stderr).not.toMatch(/AddressSanitizer/);
      expect(got.code).toBe(0);
      expect(
        got.stdout
          .split('\n')
          .filter((l) => l.startsWith('check'))
          .every((l) => l.endsWith(' ok')),
      ).toBe(true);
    });
  });
});
