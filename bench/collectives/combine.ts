// Several full runs of the collective benchmark as one: each point's figure is the median of the
// runs' medians, and each run's own median is kept beside it (the spread), so that a goal counts as
// met only where it is met in the median of the runs (issue 17's "robust figures").
import { btlOf } from '../../src/testbed/launch.js';
import { lanOf } from '../../src/testbed/state.js';
import { machineOf } from '../machine.js';
import type { BenchResults, Mode, ModeCell, Row } from './types.js';

/** The median of a non-empty list (mean of the middle two for an even count); null when empty. */
export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

const rowKey = (r: Row): string => `${r.layout}/${r.placement}/${r.coll}/${r.bytes}`;
const numbers = (xs: (number | null | undefined)[]): number[] =>
  xs.filter((x): x is number => x !== null && x !== undefined && Number.isFinite(x));

function combineCells(cells: ModeCell[]): ModeCell {
  const runUs = cells.map((c) => c.medianUs);
  return {
    medianUs: median(numbers(runUs)),
    p25Us: median(numbers(cells.map((c) => c.p25Us))),
    p75Us: median(numbers(cells.map((c) => c.p75Us))),
    wakeMedianUs: median(numbers(cells.map((c) => c.wakeMedianUs))),
    crossBytesPerCall: median(numbers(cells.map((c) => c.crossBytesPerCall))),
    wanemuCpuShare: median(numbers(cells.map((c) => c.wanemuCpuShare))),
    ...(cells.some((c) => c.tcpTimeouts !== undefined)
      ? {
          tcpTimeouts: median(numbers(cells.map((c) => c.tcpTimeouts))),
          tcpRetransShare: median(numbers(cells.map((c) => c.tcpRetransShare))),
        }
      : {}),
    ok: cells.some((c) => c.ok === false) ? false : cells.some((c) => c.ok === true) ? true : null,
    reps: cells.reduce((n, c) => n + c.reps, 0),
    runUs,
    ...(cells.some((c) => c.algs) ? { algs: cells.flatMap((c) => c.algs ?? []) } : {}),
    ...(cells.some((c) => c.pairedRatio !== undefined)
      ? {
          pairedLibraryUs: median(numbers(cells.map((c) => c.pairedLibraryUs))),
          pairedRatio: median(numbers(cells.map((c) => c.pairedRatio))),
          runPairedRatio: cells.map((c) => c.pairedRatio ?? null),
          runPairedLibraryUs: cells.map((c) => c.pairedLibraryUs ?? null),
        }
      : {}),
    ...(cells.some((c) => c.pairedShimUs !== undefined)
      ? { pairedShimUs: median(numbers(cells.map((c) => c.pairedShimUs))) }
      : {}),
  };
}

/**
 * The runs as one results file. Points are matched by configuration, collective and size; a point
 * that some runs lack is the median of those that have it. The runs must share the testbed's
 * RTT, bandwidth and LAN (else their bounds, or their site-local costs, differ and a median means
 * nothing).
 */
export function combineRuns(all: BenchResults[]): BenchResults {
  if (all.length === 0) throw new Error('combine: no results files');
  const first = all[0] as BenchResults;
  for (const r of all) {
    const a = r.meta.testbed;
    const b = first.meta.testbed;
    const lanA = lanOf(a);
    const lanB = lanOf(b);
    const btlA = btlOf(a);
    const btlB = btlOf(b);
    if (a.rttMs !== b.rttMs || a.bandwidthBps !== b.bandwidthBps || lanA !== lanB || btlA !== btlB)
      throw new Error(
        `combine: runs of different testbeds (RTT ${a.rttMs} vs ${b.rttMs} ms, ${a.bandwidthBps} vs ${b.bandwidthBps} bit/s, LAN ${lanA} vs ${lanB}, transports ${btlA} vs ${btlB})`,
      );
  }
  const modes = [...new Set(all.flatMap((r) => r.meta.options.modes))] as Mode[];
  const order: string[] = [];
  const byKey = new Map<string, Row[]>();
  for (const res of all)
    for (const row of res.rows) {
      const k = rowKey(row);
      if (!byKey.has(k)) {
        byKey.set(k, []);
        order.push(k);
      }
      (byKey.get(k) as Row[]).push(row);
    }
  const rows = order.map((k) => {
    const same = byKey.get(k) as Row[];
    const base = same[0] as Row;
    const cells: Row['modes'] = {};
    for (const m of modes) {
      // One entry per run, in run order, so that runUs[i] is run i's figure (null where it lacks it).
      const perRun = all.map((res) => res.rows.find((r) => rowKey(r) === k)?.modes[m]);
      if (perRun.every((c) => c === undefined)) continue;
      const filled = perRun.map(
        (c): ModeCell =>
          c ?? {
            medianUs: null,
            p25Us: null,
            p75Us: null,
            wakeMedianUs: null,
            crossBytesPerCall: null,
            ok: null,
            reps: 0,
          },
      );
      cells[m] = combineCells(filled);
    }
    return { ...base, modes: cells };
  });
  const newest = all.reduce((a, b) => (a.meta.startedAt >= b.meta.startedAt ? a : b));
  // How late the sleepers woke and what a system call cost are a run's, kept per run in
  // `combined`, not the merge's.
  const { wakeLate: _newestsOnly, syscall: _newestsSyscall, ...newestMeta } = newest.meta;
  return {
    meta: {
      ...newestMeta,
      options: { ...newest.meta.options, modes },
      durationS: all.reduce((s, r) => s + r.meta.durationS, 0),
      combined: all.map((r) => ({
        startedAt: r.meta.startedAt,
        durationS: r.meta.durationS,
        gitCommit: r.meta.gitCommit,
        shimSha1: r.meta.shim?.sha1 ?? null,
        loadavg: loadRange(r),
        ...machineOf(r.meta),
      })),
    },
    runs: all.flatMap((r) => r.runs),
    rows,
  };
}

/** The 1-minute load average at the start of a run's jobs: [lowest, highest]. */
export function loadRange(res: BenchResults): [number, number] {
  const xs = res.runs.map((r) => r.loadavgBefore[0] ?? 0);
  return xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 0];
}

/**
 * Some runs of a combined results file as their own results, each point the median of those runs'
 * medians (for goals judged run by run, or per machine boot).
 */
export function runsOf(res: BenchResults, indices: number[]): BenchResults {
  const pick = (xs: (number | null)[]): number | null => median(numbers(indices.map((i) => xs[i])));
  return {
    ...res,
    rows: res.rows.map((r) => ({
      ...r,
      modes: Object.fromEntries(
        Object.entries(r.modes).map(([m, c]) => [
          m,
          {
            ...c,
            medianUs: pick(c.runUs ?? []),
            pairedRatio: c.runPairedRatio ? pick(c.runPairedRatio) : c.pairedRatio,
          },
        ]),
      ) as Row['modes'],
    })),
  };
}

/** Run i of a combined results file as its own results. */
export const runOf = (res: BenchResults, i: number): BenchResults => runsOf(res, [i]);

/**
 * The runs of a combined results file grouped by the machine boot they ran on, in order of first
 * appearance; empty unless every run recorded its boot and they span more than one (a host's state
 * moves with its boot: the median of each says what each state gave).
 */
export function bootsOf(res: BenchResults): { bootId: string; indices: number[] }[] {
  const combined = res.meta.combined ?? [];
  if (combined.some((c) => !c.bootId)) return [];
  const groups: { bootId: string; indices: number[] }[] = [];
  combined.forEach((c, i) => {
    const g = groups.find((x) => x.bootId === c.bootId);
    if (g) g.indices.push(i);
    else groups.push({ bootId: c.bootId as string, indices: [i] });
  });
  return groups.length > 1 ? groups : [];
}

/**
 * A combined results file back as its runs (each with the jobs that started in its span and its
 * own commit, shim and machine), so that it can be combined again with newer runs of the same
 * shim: the runs' own medians, not the old medians, enter the new median. A file of one run is
 * returned as it is.
 */
export function splitCombined(res: BenchResults): BenchResults[] {
  const parts = res.meta.combined;
  if (!parts || parts.length === 0) return [res];
  const { combined: _parts, ...meta } = res.meta;
  // A run's jobs are those that started before the next run began, in time (the runs may have been
  // combined in any order).
  const starts = parts.map((p) => p.startedAt).sort();
  return parts.map((p) => {
    const next = starts.find((t) => t > p.startedAt);
    const runs = res.runs.filter((r) => r.startedAt >= p.startedAt && (next === undefined || r.startedAt < next));
    if (runs.length === 0) throw new Error(`combine: no jobs of the run that started ${p.startedAt}`);
    const { shimSha1, loadavg: _load, ...own } = p;
    return {
      meta: {
        ...meta,
        ...own,
        shim: meta.shim && shimSha1 ? { ...meta.shim, sha1: shimSha1 } : meta.shim,
      },
      runs,
      rows: [], // derived from the runs by the caller (run.ts's rederive)
    };
  });
}
