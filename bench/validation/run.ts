// Replay validation on the testbed (issue 13): each program of bench/validation runs with 4 ranks
// on one site and on two (contiguous halves, interleaved) at each RTT; the replay of the one-site
// run's records predicts each two-site slowdown, which is compared with the measured one (the
// recorded times, MPI_Init to MPI_Finalize). The intra-site LogGP comes from a ping-pong between
// two nodes of site A, the WAN's per-byte cost from bulk transfers between a0 and b0 at each RTT,
// calibrated at the start of each repetition. Needs root (network namespaces).
//
// Per repetition and program: one one-site run, then per RTT (set live on the WAN link) one run
// per two-site placement. Measured slowdown: the median over repetitions of two-site / one-site
// time of the same repetition (runs close in time share the host's load); predicted: the median
// of the predictions from each repetition's one-site run.
//
//   npm run build && node dist/bench/validation/run.js [--quick] [--reps 3] [--rtts 10,2] [--programs ep,cg] [--out bench/results]
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileMpi } from '../../src/mpi/toolchain.js';
import { wanemuPath as builtWanemu } from '../../src/native/paths.js';
import { calibrate } from '../../src/replay/calibrate.js';
import { makeCluster, perByte, type Cluster, type LogGP, type WanLink } from '../../src/replay/cluster.js';
import { predict } from '../../src/replay/index.js';
import { down, setLink, up } from '../../src/testbed/index.js';
import { arg } from '../args.js';
import { bulkPerByte, wanLatency } from './bandwidth.js';
import { runRecords, runTrace } from './job.js';
import { PROGRAMS } from './programs.js';
import { writeResults, type Results, type Row, type WanCalibration } from './report.js';
import { median } from './stats.js';

export interface ValidationOptions {
  quick: boolean;
  reps: number;
  rttsMs: number[];
  placements: Placement[];
  /** the model's WAN latency: from a ping-pong across sites, or half the RTT plus the local L */
  wanLatency: 'measured' | 'nominal';
  /** program ids (programs.ts); all when absent */
  programs?: string[];
  /** where validation.{md,json,svg} go; nothing written when absent */
  out?: string;
  prefix: string;
  stateDir: string;
  mgmtSubnet: string;
  dataSubnet: string;
  wanemuPath: string;
  log?: (line: string) => void;
}

export type Placement = 'contiguous' | 'interleaved';
const NODES: Record<Placement | 'one site', { nodes: string[]; siteOf: number[] }> = {
  'one site': { nodes: ['a0', 'a1', 'a2', 'a3'], siteOf: [0, 0, 0, 0] },
  contiguous: { nodes: ['a0', 'a1', 'b0', 'b1'], siteOf: [0, 0, 1, 1] },
  interleaved: { nodes: ['a0', 'b0', 'a1', 'b1'], siteOf: [0, 1, 0, 1] },
};
const WAN_BPS = 1e9 / 8;

export const defaultValidationOptions = (): ValidationOptions => ({
  quick: false,
  reps: 3,
  rttsMs: [10, 2],
  placements: ['contiguous', 'interleaved'],
  wanLatency: 'nominal',
  prefix: 'smrep',
  stateDir: '/run/sitempi-testbed-smrep',
  mgmtSubnet: '10.224.0.0/16',
  dataSubnet: '10.225.0.0/16',
  wanemuPath: builtWanemu,
});

/**
 * The WAN path for the model: its one-way latency, measured (a ping-pong's smallest messages) or
 * nominal (half the RTT plus the local L), and the per-byte cost of bulk transfers measured across
 * it (on a loaded host wanemu and the ranks' CPU time, not the line rate, bound it), at least the
 * line rate's.
 */
function wanFor(c: WanCalibration, local: LogGP, latency: 'measured' | 'nominal'): WanLink {
  const L = latency === 'measured' ? c.L : (c.rttMs * 1e6) / 2 + local.L;
  return { L, G: Math.max(c.bulkG, perByte(WAN_BPS)) };
}

/** The model's cluster for a placement: calibrated local links and WAN link. */
function clusterFor(siteOf: number[], wan: WanLink, local: LogGP): Cluster {
  return makeCluster(siteOf, wan, { nodeOf: [0, 1, 2, 3], intraSite: local, intraNode: local });
}

interface Sample {
  oneNs: number;
  twoNs: number;
  predicted: number;
  /** the prediction with the other WAN latency (measured or nominal) */
  otherLatency: number;
  baseline: number;
}

export async function runValidation(o: ValidationOptions): Promise<Results> {
  const log = o.log ?? ((s: string) => console.log(s));
  const programs = o.programs ? PROGRAMS.filter((p) => o.programs?.includes(p.id)) : PROGRAMS;
  if (programs.length === 0) throw new Error(`no such programs: ${o.programs?.join(', ')}`);
  const bins = new Map(programs.map((p) => [p.id, compileMpi(path.join('bench', 'validation', p.file))]));
  const pingpong = compileMpi('test/replay/programs/pingpong.c');
  const stream = compileMpi(path.join('bench', 'validation', 'stream.c'));
  const tb = { prefix: o.prefix, stateDir: o.stateDir, mgmtSubnet: o.mgmtSubnet, dataSubnet: o.dataSubnet };
  const started = new Date().toISOString();
  const loadBefore = loadAverage();
  await down(tb);
  const st = await up(
    { sites: { A: 4, B: 4 }, slots: 1, rttMs: o.rttsMs[0], bandwidth: '1gbit' },
    { ...tb, wanemuPath: o.wanemuPath },
  );
  const samples = new Map<string, Sample[]>();
  const locals: LogGP[] = [];
  const wanCalibrated: WanCalibration[] = [];
  try {
    let rttNow = o.rttsMs[0];
    const setRtt = async (rtt: number): Promise<void> => {
      if (rtt === rttNow) return;
      await setLink('A', 'B', { latencyMs: rtt / 2, stateDir: o.stateDir });
      rttNow = rtt;
    };
    for (let k = 0; k < o.reps; k++) {
      const local = calibrate(await runRecords(st, ['a0', 'a1'], pingpong, ['50'], 'pingpong'));
      locals.push(local);
      log(`rep ${k + 1}/${o.reps}: calibrated intra-site LogGP ${JSON.stringify(local)}`);
      const wans = new Map<number, WanLink>(),
        wansAlt = new Map<number, WanLink>();
      for (const rtt of o.rttsMs) {
        await setRtt(rtt);
        const c: WanCalibration = {
          rttMs: rtt,
          bulkG: bulkPerByte(
            await runRecords(st, ['a0', 'b0'], stream, ['5', '8', String(1 << 20)], 'stream-wan'),
            rtt * 1e6 + 2 * local.L,
          ),
          L: wanLatency(await runRecords(st, ['a0', 'b0'], pingpong, ['10'], 'pingpong-wan'), local),
        };
        wans.set(rtt, wanFor(c, local, o.wanLatency));
        wansAlt.set(rtt, wanFor(c, local, o.wanLatency === 'measured' ? 'nominal' : 'measured'));
        wanCalibrated.push(c);
        log(
          `  ${rtt} ms: WAN bulk ${c.bulkG.toFixed(2)} ns/byte (${(1e3 / c.bulkG).toFixed(0)} MB/s), L ${(c.L / 1e6).toFixed(2)} ms`,
        );
      }
      for (const p of programs) {
        const bin = bins.get(p.id) as string;
        const args = p.args(o.quick);
        const one = await runTrace(st, NODES['one site'].nodes, bin, args, `${p.id}-one`);
        const recorded = clusterFor(NODES['one site'].siteOf, wans.get(o.rttsMs[0]) as WanLink, local);
        const recordedAlt = clusterFor(NODES['one site'].siteOf, wansAlt.get(o.rttsMs[0]) as WanLink, local);
        for (const rtt of o.rttsMs) {
          await setRtt(rtt);
          for (const pl of o.placements) {
            const two = await runTrace(st, NODES[pl].nodes, bin, args, `${p.id}-${pl}`);
            const pred = predict(one, recorded, clusterFor(NODES[pl].siteOf, wans.get(rtt) as WanLink, local));
            const alt = predict(one, recordedAlt, clusterFor(NODES[pl].siteOf, wansAlt.get(rtt) as WanLink, local));
            const s: Sample = {
              oneNs: one.recordedNs,
              twoNs: two.recordedNs,
              predicted: pred.slowdown,
              otherLatency: alt.slowdown,
              baseline: pred.baseline.wallNs / one.recordedNs,
            };
            const key = `${p.id}|${rtt}|${pl}`;
            samples.set(key, [...(samples.get(key) ?? []), s]);
            log(
              `  ${p.id} ${rtt} ms ${pl}: one ${(s.oneNs / 1e9).toFixed(3)} s, two ${(s.twoNs / 1e9).toFixed(3)} s, ` +
                `measured ${(s.twoNs / s.oneNs).toFixed(2)}, predicted ${s.predicted.toFixed(2)}`,
            );
          }
        }
      }
    }
  } finally {
    await down(tb);
  }
  const rows: Row[] = [];
  for (const p of programs)
    for (const rtt of o.rttsMs)
      for (const pl of o.placements) {
        const ss = samples.get(`${p.id}|${rtt}|${pl}`) ?? [];
        const measured = median(ss.map((s) => s.twoNs / s.oneNs));
        const predicted = median(ss.map((s) => s.predicted));
        rows.push({
          program: p.id,
          name: p.name,
          rttMs: rtt,
          placement: pl,
          oneSiteS: median(ss.map((s) => s.oneNs)) / 1e9,
          twoSitesS: median(ss.map((s) => s.twoNs)) / 1e9,
          measured,
          predicted,
          error: predicted / measured - 1,
          otherLatency: median(ss.map((s) => s.otherLatency)),
          replayOneSiteVsRecorded: median(ss.map((s) => s.baseline)),
          runs: ss.map((s) => ({
            oneSiteS: s.oneNs / 1e9,
            twoSitesS: s.twoNs / 1e9,
            predicted: s.predicted,
            otherLatency: s.otherLatency,
          })),
        });
      }
  const res: Results = {
    meta: {
      started,
      finished: new Date().toISOString(),
      loadBefore,
      loadAfter: loadAverage(),
      quick: o.quick,
      reps: o.reps,
      ranks: 4,
      wanMbps: (WAN_BPS * 8) / 1e6,
      calibrated: locals,
      wanCalibrated,
      wanLatency: o.wanLatency,
      args: Object.fromEntries(programs.map((p) => [p.id, p.args(o.quick)])),
    },
    rows,
  };
  if (o.out) writeResults(res, o.out);
  return res;
}

function loadAverage(): number[] {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const d = defaultValidationOptions();
  const o: ValidationOptions = {
    ...d,
    quick,
    reps: Math.max(1, Math.floor(Number(arg('--reps', quick ? '1' : '3')) || 1)),
    rttsMs: arg('--rtts', quick ? '10' : '10,2')
      .split(',')
      .map(Number)
      .filter((x) => x > 0),
    programs: process.argv.includes('--programs') ? arg('--programs', '').split(',') : undefined,
    out: arg('--out', path.join('bench', 'results')),
    wanLatency: arg('--wan-latency', d.wanLatency) === 'measured' ? 'measured' : 'nominal',
  };
  await runValidation(o);
  console.log(fs.readFileSync(path.join(o.out as string, 'validation.md'), 'utf8'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
