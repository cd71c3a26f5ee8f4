// Replay benchmark: replayed events (trace operations) per second on one core, for a synthetic
// 2-D halo stencil with an allreduce every 10 iterations, on one site and split over two sites
// (contiguous halves: one row of halos crosses; interleaved: every other rank, so every
// east-west halo and most of the allreduce's messages cross).
// With --against DIR (another build's dist/, e.g. main's) it replays with both engines in turns, in
// this one process, and prints the ratio of their rates side by side (the host's load hits both).
//
//   npx tsc -p tsconfig.json && node dist/bench/replay.js [--json] [--ranks 64] [--iterations 2000]
//     [--rounds 5] [--against ../main/dist]
import { makeCluster, wanLink, type Cluster } from '../src/replay/cluster.js';
import { replay, type ReplayResult } from '../src/replay/engine.js';
import { Coll, emitSteps, tunedSteps } from '../src/replay/schedules.js';
import { TraceBuilder, type Trace } from '../src/replay/trace.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { arg } from './args.js';

const json = process.argv.includes('--json');
const P = Math.max(4, Math.floor(Number(arg('--ranks', '64')) || 64));
const iterations = Math.max(1, Math.floor(Number(arg('--iterations', '2000')) || 2000));
const rounds = Math.max(1, Math.floor(Number(arg('--rounds', '5')) || 5));
const againstDir = arg('--against', '');
const against = againstDir
  ? ((await import(pathToFileURL(resolve(againstDir, 'src/replay/engine.js')).href)) as { replay: typeof replay })
      .replay
  : undefined;
/** Goal (issue 13): 10 M replayed events per second per core. */
const GOAL = 10e6;

function stencil(): Trace {
  const side = Math.round(Math.sqrt(P));
  const b = new TraceBuilder(P);
  const members = Array.from({ length: P }, (_, i) => i);
  const steps = members.map((r) => tunedSteps(Coll.Allreduce, P, r, -1, 8));
  const neighbours = members.map((r) => {
    const x = r % side,
      y = Math.floor(r / side);
    return [
      [x - 1, y],
      [x + 1, y],
      [x, y - 1],
      [x, y + 1],
    ]
      .filter(([a, c]) => a >= 0 && c >= 0 && a < side && c * side + a < P)
      .map(([a, c]) => c * side + a);
  });
  for (let it = 0; it < iterations; it++)
    for (let r = 0; r < P; r++) {
      const nb = neighbours[r];
      b.compute(r, 100_000 + ((r * 7919 + it * 104729) % 5000));
      for (const n of nb) b.irecv(r, n, 8192);
      for (const n of nb) b.isend(r, n, 8192);
      b.wait(r);
      if (it % 10 === 0) emitSteps(b, r, members, steps[r], 1);
    }
  return b.finish();
}

const t0 = performance.now();
const trace = stencil();
const buildMs = performance.now() - t0;
const events = trace.first[P];
const placements: [string, number[]][] = [
  ['one site', Array(P).fill(0)],
  ['two sites', Array.from({ length: P }, (_, r) => (r < P / 2 ? 0 : 1))],
  ['interleaved', Array.from({ length: P }, (_, r) => r % 2)],
];
/** CPU time of the process (ms): on a shared host closer to what a core does than the wall time. */
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e3;
};
/** Best of `rounds` replays per engine, the engines in turns: CPU ms and wall ms. */
function measure(engines: (typeof replay)[], c: Cluster): { cpu: number[]; wall: number[]; res: ReplayResult } {
  const cpu = engines.map(() => Infinity),
    wall = engines.map(() => Infinity);
  for (const e of engines) e(trace, c); // warm-up
  let res = replay(trace, c);
  for (let k = 0; k < rounds; k++)
    engines.forEach((e, j) => {
      const s = performance.now(),
        u = process.cpuUsage();
      const x = e(trace, c);
      if (j === 0) res = x; // this build's result
      cpu[j] = Math.min(cpu[j], cpuMs(u));
      wall[j] = Math.min(wall[j], performance.now() - s);
    });
  return { cpu, wall, res };
}
const rows = placements.map(([name, siteOf]) => {
  const c = makeCluster(siteOf, wanLink(10, 1000));
  const { cpu, wall, res } = measure(against ? [replay, against] : [replay], c);
  const [ms, cms] = [wall[0], cpu[0]];
  return {
    placement: name,
    events: res.events,
    ms,
    eventsPerSecond: (res.events / ms) * 1e3,
    cpuEventsPerSecond: (res.events / cms) * 1e3,
    wallNs: res.wallNs,
    // the other build's rate per CPU second and this one's over it
    againstCpuEventsPerSecond: against ? (res.events / cpu[1]) * 1e3 : undefined,
    ratio: against ? cpu[1] / cms : undefined,
  };
});
const rate = Math.min(...rows.map((r) => r.eventsPerSecond));
const cpuRate = Math.min(...rows.map((r) => r.cpuEventsPerSecond));
// the host's state: ns per iteration of a plain typed-array loop (3.5 on two quiet hosts), by the
// wall clock and by CPU time
const ref = new Float64Array(1 << 20);
const r0 = performance.now(),
  u0 = process.cpuUsage();
for (let k = 0; k < 20; k++) for (let i = 0; i < ref.length; i++) ref[i] += i * 0.5;
const loopNs = ((performance.now() - r0) * 1e6) / (20 * ref.length);
const cpuLoopNs = (cpuMs(u0) * 1e6) / (20 * ref.length);
/** the rate of a core that runs the plain loop at 1 ns per iteration (the host's slowdown divided out) */
const quietEstimate = cpuRate * cpuLoopNs;
if (json)
  console.log(
    JSON.stringify({
      ranks: P,
      iterations,
      rounds,
      against: againstDir || undefined,
      events,
      buildMs,
      rows,
      eventsPerSecond: rate,
      cpuEventsPerSecond: cpuRate,
      goalEventsPerSecond: GOAL,
      loopNs,
      cpuLoopNs,
      quietEstimate,
    }),
  );
else {
  console.log(`replay: ${P} ranks, ${iterations} iterations, ${events} operations (built in ${buildMs.toFixed(0)} ms)`);
  for (const r of rows)
    console.log(
      `  ${r.placement.padEnd(11)} ${(r.eventsPerSecond / 1e6).toFixed(2)} M events/s, ${(r.cpuEventsPerSecond / 1e6).toFixed(2)} M per CPU second (${r.ms.toFixed(1)} ms; predicted wall ${(r.wallNs / 1e6).toFixed(1)} ms)` +
        (r.ratio
          ? `; ${againstDir}: ${((r.againstCpuEventsPerSecond ?? 0) / 1e6).toFixed(2)} M per CPU second, ratio ${r.ratio.toFixed(2)}`
          : ''),
    );
  console.log(`replay rate ${(rate / 1e6).toFixed(2)} M events/s = ${(rate / GOAL).toFixed(2)} x the goal of 10 M/s`);
  console.log(
    `host state: ${loopNs.toFixed(2)} ns per plain loop iteration, ${cpuLoopNs.toFixed(2)} per CPU time (3.5 on two quiet hosts)`,
  );
  console.log(`estimate for a core whose plain loop takes 1 ns: ${(quietEstimate / 1e6).toFixed(1)} M events/s`);
}
