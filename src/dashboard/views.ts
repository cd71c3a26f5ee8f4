// What the dashboard shows of a job, in plain JSON: a summary per job (state, ranks, verdict and
// the numbers behind it, time in MPI, rates, losses) and a detail for the jobs someone looks at
// (heatmap, top functions, message sizes, placement epochs and relocations). Numbers use the same
// formulas as the JSON report (src/report/report.ts), so a finished job shows the report's numbers.
// Computing them reads the whole matrix: per job at most once per version, and for large jobs at
// most every few seconds (minIntervalMs).
import { classify, type ClassificationNumbers, type ClassifyOptions } from '../monitor/classify.js';
import { bucketLow, HISTOGRAM_BUCKETS } from '../monitor/histogram.js';
import type { JobProfile } from '../monitor/job.js';
import type { PairMatrix } from '../monitor/pairs.js';
import type { PlacementService } from '../placement/service.js';
import { heatmapMatrix, type HeatmapMatrix } from './coarse.js';

export interface RankRow {
  rank: number;
  host: string;
  records: number;
  mpiSeconds: number;
  droppedRecords: number;
  /** bytes this rank sent (its row of the matrix) */
  bytesSent: number;
}

export interface JobSummary {
  id: string;
  program: string;
  size: number;
  state: 'running' | 'ended';
  endReason: string | null;
  ranksSeen: number;
  ranksConnected: number;
  ranksFinished: number;
  records: number;
  recordsPerSecond: number;
  bytesPerSecond: number;
  wallSeconds: number;
  mpiSeconds: number;
  mpiFraction: number;
  droppedRecords: number;
  lostBatches: number;
  lostRecords: number;
  /** totals of the matrix */
  bytes: number;
  messages: number;
  verdict: string;
  rules: string[];
  reasons: string[];
  numbers: ClassificationNumbers;
  /** the placement epoch in force (null: no placement) */
  epoch: number | null;
  /** per-rank rows, for jobs of at most `rankLimit` ranks only */
  ranks: RankRow[] | null;
}

export interface JobDetail {
  id: string;
  matrix: HeatmapMatrix;
  functions: Array<{ name: string; count: number; bytes: number; seconds: number; mpiShare: number }>;
  histogram: { bucketMinBytes: number[]; counts: number[] };
  placement: PlacementView | null;
}

export interface PlacementView {
  epochs: Array<{
    epoch: number;
    sites: string[];
    siteOf: number[];
    source: string;
    reason: string;
    jobSeconds: number;
    at: number;
  }>;
  relocations: Array<{
    at: number;
    trigger: string;
    reason: string;
    ok: boolean;
    error: string | null;
    epochBefore: number;
    epochAfter: number;
    movedRanks: number;
    movedVms: number;
    crossBytesBefore: number;
    crossBytesAfter: number;
    costSeconds: number;
    gainSeconds: number;
    gainToCost: number | null;
    worthIt: boolean;
    executorMs: number;
  }>;
  decisions: Array<{ at: number; jobSeconds: number; action: string; verdict: string | null; summary: string }>;
}

/** Where a job's ranks are: the placement service's current map, else the last one the shim reported. */
export function jobSites(job: JobProfile, svc: PlacementService | null): { sites: string[]; siteOf: number[] } | null {
  const cur = svc?.history(job)?.current; // (history: ended jobs keep theirs)
  if (cur) return { sites: cur.sites, siteOf: cur.siteOf };
  const epochs = [...job.siteMaps.keys()];
  if (!epochs.length) return null;
  const siteOf = job.siteMaps.get(Math.max(...epochs))!;
  const n = Math.max(...siteOf) + 1;
  return { sites: Array.from({ length: n }, (_, i) => `site${i}`), siteOf };
}

/** The shortest time between two recomputations of a job's views: larger jobs less often. */
export function minIntervalMs(size: number): number {
  return size <= 256 ? 0 : Math.min(30_000, Math.ceil(size / 256) * 1000);
}

interface Cached {
  key: string;
  at: number;
  pairs: PairMatrix;
  summary: JobSummary;
  detail: Omit<JobDetail, 'placement'> | null;
}

export interface ViewOptions {
  classify: ClassifyOptions;
  placement: PlacementService | null;
  /** jobs of at most this many ranks get per-rank rows (and per-rank metrics) */
  rankLimit: number;
}

export class JobViews {
  private readonly cache = new WeakMap<JobProfile, Cached>();

  constructor(private readonly opts: ViewOptions) {}

  private entry(job: JobProfile, now: number): Cached {
    const key = `${job.version}:${job.ended}`;
    const c = this.cache.get(job);
    if (c && (c.key === key || (!job.ended && now - c.at < minIntervalMs(job.size)))) return c;
    const pairs = job.pairMatrix();
    const fresh: Cached = { key, at: now, pairs, summary: this.build(job, pairs), detail: null };
    this.cache.set(job, fresh);
    return fresh;
  }

  /** The job's matrix as of its last summary. */
  pairs(job: JobProfile, now = Date.now()): PairMatrix {
    return this.entry(job, now).pairs;
  }

  summary(job: JobProfile, now = Date.now()): JobSummary {
    const s = this.entry(job, now).summary;
    const rates = job.rates();
    return {
      ...s,
      recordsPerSecond: rates.recordsPerSecond,
      bytesPerSecond: rates.bytesPerSecond,
      epoch: this.epoch(job),
      ranksConnected: job.ranksConnected,
    };
  }

  detail(job: JobProfile, now = Date.now()): JobDetail {
    const c = this.entry(job, now);
    c.detail ??= {
      id: job.id,
      matrix: heatmapMatrix(c.pairs),
      functions: topFunctions(job),
      histogram: histogram(job),
    };
    return { ...c.detail, placement: this.placement(job) };
  }

  private epoch(job: JobProfile): number | null {
    const cur = this.opts.placement?.history(job)?.current;
    if (cur) return cur.epoch;
    const e = [...job.siteMaps.keys()];
    return e.length ? Math.max(...e) : null;
  }

  private build(job: JobProfile, pairs: PairMatrix): JobSummary {
    const c = classify(job, this.opts.classify);
    const losses = job.losses;
    let mpiNs = 0;
    for (const r of job.ranks) mpiNs += r ? r.mpiNs : 0;
    let ranks: RankRow[] | null = null;
    if (job.size <= this.opts.rankLimit) {
      const sent = new Float64Array(job.size);
      pairs.forEach((src, _dst, b) => (sent[src] += b));
      ranks = job.ranks.map((r, i) => ({
        rank: i,
        host: r?.host ?? '',
        records: r?.records ?? 0,
        mpiSeconds: (r?.mpiNs ?? 0) / 1e9,
        droppedRecords: r?.dropped ?? 0,
        bytesSent: sent[i],
      }));
    }
    return {
      id: job.id,
      program: job.program,
      size: job.size,
      state: job.ended ? 'ended' : 'running',
      endReason: job.endReason,
      ranksSeen: job.ranksSeen,
      ranksConnected: job.ranksConnected,
      ranksFinished: job.ranksFinished,
      records: job.records,
      recordsPerSecond: 0,
      bytesPerSecond: 0,
      wallSeconds: job.wallNs / 1e9,
      mpiSeconds: mpiNs / 1e9,
      mpiFraction: job.mpiFraction,
      droppedRecords: losses.droppedRecords,
      lostBatches: losses.lostBatches,
      lostRecords: losses.lostRecords,
      bytes: Number(pairs.totalBytes()),
      messages: Number(pairs.totalMessages()),
      verdict: c.verdict,
      rules: c.rules,
      reasons: c.reasons,
      numbers: c.numbers,
      epoch: null,
      ranks,
    };
  }

  private placement(job: JobProfile): PlacementView | null {
    const h = this.opts.placement?.history(job);
    if (!h) return null;
    return {
      epochs: h.timeline.map((e) => ({
        epoch: e.epoch,
        sites: e.sites,
        siteOf: e.siteOf,
        source: e.source,
        reason: e.reason,
        jobSeconds: e.jobSeconds,
        at: e.at,
      })),
      relocations: h.relocations.map((r) => ({
        at: r.timings.requestedAt,
        trigger: r.trigger,
        reason: r.reason,
        ok: r.ok,
        error: r.error,
        epochBefore: r.epochBefore,
        epochAfter: r.epochAfter,
        movedRanks: r.numbers.movedRanks,
        movedVms: r.numbers.movedVms,
        crossBytesBefore: r.numbers.crossBytesBefore,
        crossBytesAfter: r.numbers.crossBytesAfter,
        costSeconds: r.numbers.cost.costSeconds,
        gainSeconds: r.numbers.gain.gainSeconds,
        gainToCost: r.numbers.gainToCost,
        worthIt: r.numbers.worthIt,
        executorMs: r.timings.executorMs,
      })),
      decisions: h.decisions.slice(-20).map((d) => ({
        at: d.at,
        jobSeconds: d.jobSeconds,
        action: d.action,
        verdict: d.verdict,
        summary: d.summary,
      })),
    };
  }
}

/** The ten functions with the most time (as the report orders them). */
function topFunctions(job: JobProfile): JobDetail['functions'] {
  const fs = job.functions();
  const total = fs.reduce((s, f) => s + f.timeNs, 0);
  return fs
    .map((f) => ({
      name: f.name,
      count: f.count,
      bytes: f.bytes,
      seconds: f.timeNs / 1e9,
      mpiShare: total > 0 ? f.timeNs / total : 0,
      id: f.id,
    }))
    .sort((a, b) => b.seconds - a.seconds || b.bytes - a.bytes || a.id - b.id)
    .slice(0, 10)
    .map(({ id: _id, ...f }) => f);
}

/** Point-to-point message sizes over all pairs, the buckets from the first to the last non-empty one. */
function histogram(job: JobProfile): JobDetail['histogram'] {
  const sum = new Float64Array(HISTOGRAM_BUCKETS);
  for (const p of job.histogramPairs()) for (let k = 0; k < HISTOGRAM_BUCKETS; k++) sum[k] += p.counts[k];
  let lo = sum.findIndex((v) => v > 0);
  if (lo < 0) return { bucketMinBytes: [], counts: [] };
  let hi = HISTOGRAM_BUCKETS - 1;
  while (sum[hi] === 0) hi--;
  lo = Math.max(0, lo);
  return {
    bucketMinBytes: Array.from({ length: hi - lo + 1 }, (_, i) => bucketLow(lo + i)),
    counts: Array.from(sum.subarray(lo, hi + 1)),
  };
}
