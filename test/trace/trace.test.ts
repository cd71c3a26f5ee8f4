// `sitempi report --trace`: a Perfetto/Chrome trace of a real run (MPI_THREAD_MULTIPLE, so a
// rank's calls overlap) that passes a strict Trace Event Format check with one event per call and
// every rank named; coalescing under a tiny bound that keeps every rank, its counts and its time
// range; placement marks and relocations as instant events on the ranks' common time base.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Role } from '../../src/generated/functions.js';
import { loadRankFiles } from '../../src/monitor/files.js';
import { writeTrace } from '../../src/trace/index.js';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { addon, batchFrame, fnCode, type Rec } from '../helpers/fake-rank.js';
import { checkTrace, type CheckedTrace, type TraceEvent } from './check-trace.js';

const dirs: string[] = [];
const tmp = (p: string): string => {
  const d = tempDir(p);
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

/** Runs the CLI in this process; its stdout and stderr. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '',
    err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

const sum = (evs: TraceEvent[], f: (e: TraceEvent) => number): number => evs.reduce((a, e) => a + f(e), 0);
const callsOf = (e: TraceEvent): number => (typeof e.args?.calls === 'number' ? e.args.calls : 1);
/** All complete events of a rank, over its lanes (tid = lane * size + rank). */
function rankCalls(t: CheckedTrace, rank: number, size: number): TraceEvent[] {
  return [...t.calls.entries()].filter(([k]) => Number(k.split(':')[1]) % size === rank).flatMap(([, v]) => v);
}

describe('sitempi report --trace on a real run', () => {
  const P = 3;
  const bin = compileMpi('test/shim/programs/threads_multiple.c', ['-pthread']);
  let dir = '';
  let want: number[] = []; // call records per rank, as the report counts them

  it('one complete event per call, every rank on its own named track, a valid trace', async () => {
    dir = tmp('trace-run');
    const run = await mpirun({
      np: P,
      program: bin,
      args: ['20'],
      env: { SITEMPI_OUTPUT_DIR: dir, SITEMPI_JOB: 'tr' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('threads ok');
    const jobs = await loadRankFiles([dir], { strict: true });
    want = jobs[0].ranks.map((r) => r!.calls);
    expect(want.every((n) => n > 0)).toBe(true);

    const file = path.join(dir, 'trace.json');
    const r = await cli(['report', '--trace', file, dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('tr'); // the report is still printed
    expect(r.err).toMatch(new RegExp(`trace of ${P} ranks, ${want.reduce((a, b) => a + b)} calls: `));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const t = checkTrace(fs.readFileSync(file, 'utf8'));
    expect([...t.processes.values()]).toEqual([expect.stringMatching(/^job tr /)]);
    for (let rank = 0; rank < P; rank++) {
      expect(t.threads.get(`1:${rank}`)).toMatch(new RegExp(`^rank ${rank} \\(.+\\)$`));
      const evs = rankCalls(t, rank, P);
      expect(evs.length).toBe(want[rank]);
      expect(evs.every((e) => e.cat === 'mpi' && /^MPI_\w+$/.test(e.name))).toBe(true);
    }
    // threads of one rank call MPI at once: overlapping calls go to the rank's extra tracks
    expect([...t.threads.values()].some((n) => / overlapping \d+$/.test(n))).toBe(true);
    const sends = [...t.calls.values()].flat().filter((e) => e.name === 'MPI_Sendrecv');
    expect(sends.length).toBeGreaterThan(0);
    expect(sends.every((e) => typeof e.args?.peer === 'number' && typeof e.args?.comm === 'number')).toBe(true);
    expect(sum(sends, (e) => e.args!.bytes as number)).toBeGreaterThan(0);
  });

  it('past --trace-max-events each rank keeps spans that cover its range and sum its calls', async () => {
    const exact = checkTrace(fs.readFileSync(path.join(dir, 'trace.json'), 'utf8'));
    const file = path.join(dir, 'small.json');
    const max = 12;
    const r = await cli(['report', '--trace', file, '--trace-max-events', String(max), dir]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/coalesced into \d+ spans/);
    const t = checkTrace(fs.readFileSync(file, 'utf8'));
    const all = [...t.calls.values()].flat();
    expect(all.length).toBeLessThanOrEqual(max);
    expect(all.some((e) => / x \d+$/.test(e.name) && e.cat === 'mpi,coalesced')).toBe(true);
    for (let rank = 0; rank < P; rank++) {
      const spans = t.calls.get(`1:${rank}`) ?? [];
      expect(spans.length).toBeGreaterThan(0);
      expect(sum(spans, callsOf)).toBe(want[rank]);
      const calls = rankCalls(exact, rank, P);
      expect(sum(spans, (e) => e.args!.bytes as number)).toBe(sum(calls, (e) => e.args!.bytes as number));
      const first = Math.min(...calls.map((e) => e.ts!)),
        last = Math.max(...calls.map((e) => e.ts! + e.dur!));
      expect(spans[0].ts).toBeCloseTo(first, 6);
      expect(Math.max(...spans.map((e) => e.ts! + e.dur!))).toBeCloseTo(last, 6);
    }
  });
});

describe('many calls', () => {
  it('skewed ranks: exact over several chunks, and under a bound each rank keeps its share and its sums', async () => {
    const dir = tmp('trace-many');
    const SEND = fnCode('MPI_Send', Role.Send),
      BARRIER = fnCode('MPI_Barrier', Role.Coll);
    const counts = [20_000, 9_000, 3]; // rank 2 makes 3 calls: its share of the bound rounds to 0
    counts.forEach((n, rank) => {
      const frames = [
        addon.encodeHello({ job: 'many', rank, size: 3, host: 'h', pid: 1, startNs: 1e18, token: '', program: './m' }),
        addon.encodeCommDef({ localId: 0, globalId: 1, members: [0, 1, 2] }),
      ];
      for (let b = 0; b * 1000 < n; b++) {
        const recs: Rec[] = Array.from({ length: Math.min(1000, n - b * 1000) }, (_, i) => ({
          fn: i % 100 === 99 ? BARRIER : SEND,
          peer: (rank + 1) % 3,
          bytes: 10 + (i % 7),
          start: (b * 1000 + i) * 2000,
          duration: 1000,
        }));
        frames.push(batchFrame(b, recs));
      }
      fs.writeFileSync(path.join(dir, `sitempi-many-${rank}.smpi`), Buffer.concat(frames));
    });
    const exactFile = path.join(dir, 'exact.json');
    const s = await writeTrace([dir], exactFile);
    expect(s).toMatchObject({ calls: 29_003, spans: 29_003, coalesced: false });
    expect(s.bytes).toBeGreaterThan(2 << 20); // several chunks
    const exact = checkTrace(fs.readFileSync(exactFile, 'utf8'));
    counts.forEach((n, rank) => expect(exact.calls.get(`1:${rank}`)).toHaveLength(n));

    const max = 1000;
    const small = await writeTrace([dir], path.join(dir, 'small.json'), { maxEvents: max });
    expect(small).toMatchObject({ calls: 29_003, callsWritten: 29_003, coalesced: true });
    const t = checkTrace(fs.readFileSync(path.join(dir, 'small.json'), 'utf8'));
    expect(small.spans).toBe([...t.calls.values()].flat().length);
    expect(small.spans).toBeLessThanOrEqual(max + 1);
    counts.forEach((n, rank) => {
      const spans = t.calls.get(`1:${rank}`)!;
      const calls = exact.calls.get(`1:${rank}`)!;
      expect(sum(spans, callsOf)).toBe(n);
      expect(sum(spans, (e) => e.args!.bytes as number)).toBe(sum(calls, (e) => e.args!.bytes as number));
      expect(spans[0].ts).toBe(calls[0].ts);
      expect(spans.at(-1)!.ts! + spans.at(-1)!.dur!).toBeCloseTo(calls.at(-1)!.ts! + calls.at(-1)!.dur!, 6);
    });
    // the shares follow the calls: rank 0 about 2.2x rank 1's spans; rank 2 one span of its 3 calls
    const n0 = t.calls.get('1:0')!.length,
      n1 = t.calls.get('1:1')!.length;
    expect(n0 / n1).toBeGreaterThan(2);
    expect(n0 / n1).toBeLessThan(2.5);
    expect(t.calls.get('1:2')!.map((e) => [e.name, e.args!.calls])).toEqual([['MPI_Send x 3', 3]]);
    expect(t.calls.get('1:0')!.some((e) => /^MPI x \d+$/.test(e.name))).toBe(true); // sends and barriers
  });
});

describe('placement marks and relocations', () => {
  const ALLREDUCE = fnCode('MPI_Allreduce', Role.Coll);
  const MARK = fnCode('MPI_Allreduce', Role.Placement);
  const T0 = 1_700_000_000_000_000_000;

  /** A rank file: Hello at T0 + offset, the world, an allreduce, a seen and a switch mark (epoch 1). */
  function rankFile(dir: string, rank: number, offsetNs: number, switchNs: number): string {
    const recs: Rec[] = [
      { fn: MARK, alg: 1, bytes: 0, crossBytes: 0, start: 1000, duration: 0 }, // call 0: no placement yet
      { fn: ALLREDUCE, bytes: 8, start: 1000, duration: 500 },
      { fn: MARK, alg: 2, bytes: 1, crossBytes: 1, start: switchNs - 100, duration: 0 },
      { fn: MARK, alg: 1, bytes: 1, crossBytes: 1, peer: 0, start: switchNs, duration: 0 },
      { fn: ALLREDUCE, bytes: 8, start: switchNs, duration: 700 },
    ];
    const frames = [
      addon.encodeHello({
        job: 'mv',
        rank,
        size: 2,
        host: `h${rank}`,
        pid: 1,
        startNs: T0 + offsetNs,
        token: '',
        program: './mv',
      }),
      addon.encodeCommDef({ localId: 0, globalId: 1, members: [0, 1] }),
      batchFrame(0, recs, { epoch: 1 }),
      addon.encodePlacement({ epoch: 1, sites: ['a', 'b'], siteOf: [0, 1] }),
    ];
    const file = path.join(dir, `sitempi-mv-${rank}.smpi`);
    fs.writeFileSync(file, Buffer.concat(frames));
    return file;
  }

  it('switches are instants on their rank, the relocation a global instant at the earliest switch', async () => {
    const dir = tmp('trace-marks');
    // rank 1 started 2.048 ms after rank 0 (a multiple of 256 ns: T0 + it is an exact double) and
    // switched 0.5 ms into its run, before rank 0 (3 ms into its run)
    rankFile(dir, 0, 0, 3_000_000);
    rankFile(dir, 1, 2_048_000, 500_000);
    const out = path.join(dir, 't.json');
    const s = await writeTrace([dir], out);
    expect(s).toMatchObject({ jobs: 1, ranks: 2, calls: 4, spans: 4, callsWritten: 4, coalesced: false });
    const t = checkTrace(fs.readFileSync(out, 'utf8'));
    // the ranks' clocks: rank 1's calls sit 2.048 ms later
    expect(t.calls.get('1:0')!.map((e) => e.ts)).toEqual([1, 3000]);
    expect(t.calls.get('1:1')!.map((e) => e.ts)).toEqual([2049, 2548]);
    expect(t.calls.get('1:1')![1]).toMatchObject({ name: 'MPI_Allreduce', dur: 0.7, args: { bytes: 8, comm: 0 } });
    const switches = t.instants.filter((e) => e.name === 'placement switch: epoch 1');
    expect(switches.map((e) => [e.tid, e.ts, e.s])).toEqual([
      [0, 3000, 't'],
      [1, 2548, 't'],
    ]);
    expect(switches[0].args).toMatchObject({ epoch: 1, call: 1, comm: 0, map_from_rank: 0, at: 'MPI_Allreduce' });
    expect(t.instants.filter((e) => e.name === 'placement seen: epoch 1')).toHaveLength(2);
    expect(t.instants.some((e) => /epoch 0/.test(e.name))).toBe(false);
    const reloc = t.instants.filter((e) => e.s === 'g');
    expect(reloc).toHaveLength(1);
    expect(reloc[0]).toMatchObject({
      name: 'relocation: epoch 1',
      ts: 2548,
      args: { epoch: 1, first_rank: 1, ranks_switched: 2, ranks_per_site: 'site 0: 1, site 1: 1' },
    });
  });

  it('the trace file replaces a planted link without following it; bad options are usage errors', async () => {
    const dir = tmp('trace-link');
    rankFile(dir, 0, 0, 3_000_000);
    const victim = path.join(dir, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n');
    const out = path.join(dir, 'out.json');
    fs.symlinkSync(victim, out);
    expect((await cli(['report', '--trace', out, path.join(dir, 'sitempi-mv-0.smpi')])).code).toBe(0);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.lstatSync(out).isFile()).toBe(true);
    checkTrace(fs.readFileSync(out, 'utf8'));
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    for (const bad of [
      ['--trace-max-events', '0'],
      ['--trace-max-events', '1.5'],
      ['--trace-max-events', 'x'],
    ]) {
      const r = await cli(['report', '--trace', out, ...bad, dir]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--trace-max-events needs/);
    }
    expect((await cli(['report', '--trace-max-events', '5', dir])).err).toMatch(/needs --trace FILE/);
  });
});
