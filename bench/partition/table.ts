// The partition benchmark's rows, the goal lines it prints, and the Markdown table it writes.

export interface Row {
  pattern: string;
  ranks: number;
  sites: string;
  caps: number[];
  edges: number;
  cut: number;
  /** sitempi: median wall and CPU seconds of one partition() call. */
  seconds: number;
  cpuSeconds: number;
  metisCut: number;
  /** gpmetis's own "Partitioning" time (CPU seconds, 1 ms resolution) and its process's wall time. */
  metisSeconds: number;
  metisWallSeconds: number;
  /** Sites METIS filled past their capacity. */
  metisOverCap: number;
  ufactor: number;
  contiguousCut: number;
  /** bench/partition/paired.cpp: medians of thread CPU seconds, sitempi's and METIS_PartGraphKway's,
   * and the per-round ratios' median and quartiles (the two alternating in one process). */
  pairedSeconds: number;
  pairedMetisSeconds: number;
  pairedRatio: number;
  pairedLow: number;
  pairedHigh: number;
  /** Combined runs only (--from-json): each run's paired ratio; the fields above are their medians. */
  pairedRuns?: number[];
}

const ratio = (r: Row): number => (r.metisCut > 0 ? r.cut / r.metisCut : r.cut === 0 ? 1 : Infinity);
const geomean = (xs: number[]): number => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
const label = (r: Row): string => `${r.pattern} ${r.ranks} ranks, ${r.sites} sites`;

function worst(rows: Row[], key: (r: Row) => number): Row {
  return rows.reduce((a, b) => (key(b) > key(a) ? b : a));
}

/** The goal lines: cut against METIS, planner time at 10 000 and 100 000 ranks, time against METIS. */
export function summary(rows: Row[]): string[] {
  if (rows.length === 0) return ['no rows'];
  const lines: string[] = [];
  const w = worst(rows, ratio);
  const within = rows.filter((r) => ratio(r) <= 1.05).length;
  lines.push(
    `cut / METIS's cut: geometric mean ${geomean(rows.map(ratio)).toFixed(3)}, largest ${ratio(w).toFixed(3)} (${label(w)}); ` +
      `within 5 %: ${within} of ${rows.length} (goal: all)`,
  );
  for (const [n, sites, goal] of [
    [10000, '4', 0.1],
    [100000, null, 2],
  ] as const) {
    const sel = rows.filter((r) => r.ranks === n && (sites === null || r.sites === sites));
    if (!sel.length) continue;
    const t = worst(sel, (r) => r.seconds);
    const c = worst(sel, (r) => r.cpuSeconds);
    lines.push(
      `planner time, ${n} ranks${sites ? ` over ${sites} sites` : ''}: largest ${t.seconds.toFixed(3)} s wall (${t.pattern}, ${t.sites} sites), ` +
        `${c.cpuSeconds.toFixed(3)} s CPU (${c.pattern}, ${c.sites} sites); goal <= ${goal} s`,
    );
  }
  const pr = rows.map((r) => r.pairedRatio).sort((a, b) => a - b);
  const slowest = worst(rows, (r) => r.pairedRatio);
  const runs = rows[0].pairedRuns?.length ?? 0;
  const perRun = Array.from(
    { length: runs },
    (_, i) => rows.filter((r) => (r.pairedRuns?.[i] ?? Infinity) <= 1).length,
  );
  lines.push(
    `CPU time / METIS's, paired (one process, alternating calls, thread CPU clock): median ${pr[pr.length >> 1].toFixed(2)} x, ` +
      `largest ${slowest.pairedRatio.toFixed(2)} x (${label(slowest)}); at most METIS's time: ${pr.filter((q) => q <= 1).length} of ${rows.length}` +
      `${runs ? ` in the median of ${runs} runs (in each run: ${perRun.join(', ')})` : ''} (goal: all)`,
  );
  const timed = rows.filter((r) => r.metisSeconds > 0);
  const faster = rows.filter((r) => r.cpuSeconds <= r.metisSeconds).length;
  if (timed.length) {
    const tr = timed.map((r) => r.cpuSeconds / r.metisSeconds).sort((a, b) => a - b);
    lines.push(
      `CPU time / gpmetis's own time (separate processes, its 1 ms timer): median ${tr[tr.length >> 1].toFixed(2)} x, range ${tr[0].toFixed(2)} .. ${tr[tr.length - 1].toFixed(2)} x ` +
        `(over ${timed.length} cases METIS timed at >= 1 ms); at most METIS's time: ${faster} of ${rows.length}`,
    );
  }
  const wr = rows.map((r) => r.seconds / r.metisWallSeconds).sort((a, b) => a - b);
  lines.push(
    `wall time / gpmetis's wall time (its file I/O and start included): median ${wr[wr.length >> 1].toFixed(2)} x`,
  );
  const base = rows.filter((r) => r.cut > 0 && r.contiguousCut > 0);
  if (base.length) {
    lines.push(
      `contiguous split's cut / sitempi's cut: geometric mean ${geomean(base.map((r) => r.contiguousCut / r.cut)).toFixed(2)} x`,
    );
  }
  return lines;
}

/** A warning when the machine was busy: wall times then include waiting for a CPU. */
function loadNote(meta: Record<string, unknown>): string {
  // Combined runs (--from-json): the busiest of them.
  const metas = Array.isArray(meta.runs) ? (meta.runs as Record<string, unknown>[]) : [meta];
  const load = Math.max(...metas.map((m) => (Array.isArray(m.loadavg) ? Number(m.loadavg[0]) : 0)));
  const cpus = Number(metas[0]?.cpus) || 1;
  if (!(load > cpus)) return '';
  return (
    `The machine was busy (load average ${load.toFixed(1)} on ${cpus} CPUs): wall times include waiting for a CPU, ` +
    "for sitempi and gpmetis alike; compare CPU times (METIS's own time is CPU time too).\n\n"
  );
}

/** bench/results/partition.md: how it was measured, the goal lines, the table. */
export function markdown(rows: Row[], lines: string[], meta: Record<string, unknown>): string {
  const head =
    "| pattern | ranks | sites (capacities) | sitempi cut | sitempi s wall (CPU) | METIS cut | METIS s own (wall) | cut ratio | paired CPU s: sitempi / METIS (ratio; quartiles, or each run's ratio) | contiguous cut |\n" +
    '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n';
  const body = rows
    .map(
      (r) =>
        `| ${r.pattern} | ${r.ranks} | ${r.sites} (${r.caps.join('/')}) | ${r.cut} | ${r.seconds.toFixed(3)} (${r.cpuSeconds.toFixed(3)}) | ` +
        `${r.metisCut}${r.metisOverCap ? ` (over capacity on ${r.metisOverCap})` : ''} | ${r.metisSeconds.toFixed(3)} (${r.metisWallSeconds.toFixed(3)}) | ` +
        `${ratio(r).toFixed(3)} | ${r.pairedSeconds.toFixed(4)} / ${r.pairedMetisSeconds.toFixed(4)} (${r.pairedRatio.toFixed(2)}, ${r.pairedRuns ? `runs ${r.pairedRuns.map((q) => q.toFixed(2)).join('/')}` : `${r.pairedLow.toFixed(2)}-${r.pairedHigh.toFixed(2)}`}) | ${r.contiguousCut} |`,
    )
    .join('\n');
  return (
    '# Partitioner against METIS\n\n' +
    (Array.isArray(meta.runs)
      ? 'Written by `node dist/bench/partition/run.js --from-json RUN1/partition.json,RUN2/partition.json,RUN3/partition.json --out bench/results`\n' +
        `from full runs of \`node dist/bench/partition/run.js --reps ${String((meta.runs as Record<string, unknown>[])[0]?.reps)} ` +
        `--paired-reps ${String((meta.runs as Record<string, unknown>[])[0]?.pairedReps)} --out RUNi\`.\n`
      : 'Written by `node dist/bench/partition/run.js --out bench/results` (`npm run bench -- --full --only partition`).\n') +
    'sitempi: `partition()` from src/partition, default options, median of the timed runs after one untimed run.\n' +
    'METIS: `gpmetis -ptype=kway -ufactor=U -tpwgts=F -seed=1` (Debian metis 5.1.0), tpwgts = capacity / sum of\n' +
    'capacities, U = floor(1000 x (sum of capacities / ranks - 1)); "own" is the Partitioning time gpmetis prints\n' +
    '(CPU, no file I/O, 1 ms resolution), wall is its process from start to exit. "Paired": bench/partition/paired.cpp\n' +
    "runs sitempi's partitioner and METIS_PartGraphKway (libmetis, the same options) alternately in one process,\n" +
    'each call timed by the thread CPU clock; the ratio is the median of the per-round ratios. See docs/partition.md.\n\n' +
    (Array.isArray(meta.runs)
      ? `**Median of ${meta.runs.length} full runs** (\`--from-json\`): every time and ratio is the median of the runs'; the runs: ${JSON.stringify(meta.runs)}\n\n`
      : `Run: ${JSON.stringify(meta)}\n\n`) +
    loadNote(meta) +
    lines.map((l) => `- ${l}`).join('\n') +
    '\n\n' +
    head +
    body +
    '\n'
  );
}
