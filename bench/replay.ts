// Replay benchmark: replayed events (trace operations) per second on one core, for a synthetic
// 2-D halo stencil with an allreduce per iteration, on one site and split over two sites.
//
//   npx tsc -p tsconfig.json && node dist/bench/replay.js [--json] [--ranks 64] [--iterations 2000]
import { makeCluster, wanLink } from '../src/replay/cluster.js';
import { replay } from '../src/replay/engine.js';
import { Coll, emitSteps, tunedSteps } from '../src/replay/schedules.js';
import { TraceBuilder, type Trace } from '../src/replay/trace.js';
import { arg } from './args.js';

const json = process.argv.includes('--json');
const P = Math.max(4, Math.floor(Number(arg('--ranks', '64')) || 64));
const iterations = Math.max(1, Math.floor(Number(arg('--iterations', '2000')) || 2000));
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
];
/** CPU time of the process (ms): on a shared host closer to what a core does than the wall time. */
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e3;
};
const rows = placements.map(([name, siteOf]) => {
  const c = makeCluster(siteOf, wanLink(10, 1000));
  replay(trace, c); // warm-up
  const runs: number[] = [],
    cpu: number[] = [];
  let res = replay(trace, c);
  for (let k = 0; k < 3; k++) {
    const s = performance.now(),
      u = process.cpuUsage();
    res = replay(trace, c);
    cpu.push(cpuMs(u));
    runs.push(performance.now() - s);
  }
  const ms = Math.min(...runs);
  const cms = Math.min(...cpu);
  return {
    placement: name,
    events: res.events,
    ms,
    eventsPerSecond: (res.events / ms) * 1e3,
    cpuEventsPerSecond: (res.events / cms) * 1e3,
    wallNs: res.wallNs,
  };
});
const rate = Math.min(...rows.map((r) => r.eventsPerSecond));
const cpuRate = Math.min(...rows.map((r) => r.cpuEventsPerSecond));
// the host's state: ns per iteration of a plain typed-array loop (about 1 on a quiet core), by the
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
      `  ${r.placement.padEnd(10)} ${(r.eventsPerSecond / 1e6).toFixed(2)} M events/s, ${(r.cpuEventsPerSecond / 1e6).toFixed(2)} M per CPU second (${r.ms.toFixed(1)} ms; predicted wall ${(r.wallNs / 1e6).toFixed(1)} ms)`,
    );
  console.log(`replay rate ${(rate / 1e6).toFixed(2)} M events/s = ${(rate / GOAL).toFixed(2)} x the goal of 10 M/s`);
  console.log(
    `host state: ${loopNs.toFixed(2)} ns per plain loop iteration, ${cpuLoopNs.toFixed(2)} per CPU time (about 1 on a quiet core)`,
  );
  console.log(`estimate for a quiet core: ${(quietEstimate / 1e6).toFixed(1)} M events/s`);
}
