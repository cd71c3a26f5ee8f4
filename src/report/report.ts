// Reports of job profiles: JSON for machines (schema in docs/report-json.md) and text for people.
//
// A report stays bounded for any job size: matrices are written in full (size x size) up to
// MAX_BLOCKS ranks, coarsened into at most MAX_BLOCKS x MAX_BLOCKS blocks above that (coarse.ts),
// and as every non-zero pair only on request (sparse.ts); ranks are listed in full up to
// MAX_LISTED_RANKS, above that the extremes and quantiles (ranks.ts). The work is written once, in
// steps (monitor/steps.ts): the synchronous functions run the steps at once, the *Async ones yield to
// the event loop every ~10 ms so that a monitor goes on serving other clients while it writes a report.
import { classifySteps } from '../monitor/classify.js';
import { bucketLow } from '../monitor/histogram.js';
import type { JobProfile } from '../monitor/job.js';
import type { FunctionStats } from '../monitor/summary.js';
import { runSteps, runStepsAsync, type Steps } from '../monitor/steps.js';
import { coarsenSteps, MAX_BLOCKS, planBlocks, type BlockPlan } from './coarse.js';
import { jsonSteps } from './json.js';
import { selectRanks } from './ranks.js';
import { pairColumns, PAIRS_PER_STEP, sparseSteps, toDense } from './sparse.js';
import { formatJobText } from './text.js';
import type { FunctionReport, JobReport, PairReport, RankReport, Report, ReportOptions } from './types.js';

/** 2: matrices of jobs above 256 ranks coarsened, rankSummary, pairCount, sparse full matrices. */
export const REPORT_SCHEMA_VERSION = 2;

export type { ReportOptions, RankReport, FunctionReport, PairReport, JobReport, Report } from './types.js';
export type { BlockPlan, CoarseMatrix, RankBlock } from './coarse.js';
export type { RankSummary, Quantiles } from './ranks.js';
export type { SparseMatrixJson } from './sparse.js';
export { coarsen, coarsenSteps, hostBlocks, MAX_BLOCKS, planBlocks, rangeBlocks } from './coarse.js';
export { MAX_LISTED_RANKS, quantiles } from './ranks.js';
export { fromSparse, pairColumns, sparseSteps, toDense, toSparse, type PairColumns } from './sparse.js';
export { formatBytes, formatCount, formatJobText } from './text.js';
export { heatmapPng, jobHeatmap, writeHeatmap, type HeatmapOptions } from './heatmap.js';

/** How a job's ranks are grouped in its coarsened matrix (by host when hostBlocks allows it). */
export function jobBlocks(job: JobProfile, maxBlocks = MAX_BLOCKS): BlockPlan {
  return planBlocks(
    job.size,
    Array.from({ length: job.size }, (_, r) => job.rank(r)?.host ?? ''),
    maxBlocks,
  );
}

const pairOrder = (a: PairReport, b: PairReport) =>
  b.bytes - a.bytes || b.messages - a.messages || a.src - b.src || a.dst - b.dst;

/** One job's report object. */
export function jobReport(job: JobProfile, opts: ReportOptions = {}): JobReport {
  return runSteps(jobReportSteps(job, opts));
}

/** jobReport, yielding to the event loop every ~10 ms. */
export function jobReportAsync(job: JobProfile, opts: ReportOptions = {}): Promise<JobReport> {
  return runStepsAsync(jobReportSteps(job, opts));
}

function* jobReportSteps(job: JobProfile, opts: ReportOptions): Steps<JobReport> {
  const P = job.size;
  const top = opts.top ?? 10;
  const ranks: RankReport[] = [];
  let mpiTotal = 0;
  for (let i = 0; i < P; i++) {
    const r = job.rank(i);
    mpiTotal += r ? r.mpiNs : 0;
    ranks.push(
      r
        ? {
            rank: i,
            host: r.host,
            pid: r.pid,
            seen: true,
            finished: r.bye !== null,
            wallSeconds: r.wallNs / 1e9,
            mpiSeconds: r.mpiNs / 1e9,
            mpiFraction: r.mpiFraction,
            initFinalizeSeconds: r.initFinalizeNs / 1e9,
            records: r.records,
            calls: r.calls,
            droppedRecords: r.dropped,
            lostBatches: r.lostBatches,
            lostRecords: r.lostRecords,
            duplicateBatches: r.duplicateBatches,
            invalidPeerRecords: r.invalidPeers,
            unknownFunctionRecords: r.unknownFunctions,
            crossSiteBytes: r.crossSiteBytes,
            crossSiteMessages: r.crossSiteMessages,
          }
        : {
            rank: i,
            host: '',
            pid: 0,
            seen: false,
            finished: false,
            wallSeconds: 0,
            mpiSeconds: 0,
            mpiFraction: 0,
            initFinalizeSeconds: 0,
            records: 0,
            calls: 0,
            droppedRecords: 0,
            lostBatches: 0,
            lostRecords: 0,
            duplicateBatches: 0,
            invalidPeerRecords: 0,
            unknownFunctionRecords: 0,
            crossSiteBytes: 0,
            crossSiteMessages: 0,
          },
    );
  }
  const fnTotalNs = job.functions().reduce((s, f) => s + f.timeNs, 0);
  const functions = job
    .functions()
    .map((f: FunctionStats): FunctionReport => ({
      name: f.name,
      id: f.id,
      kind: f.kind,
      count: f.count,
      bytes: f.bytes,
      seconds: f.timeNs / 1e9,
      mpiShare: fnTotalNs > 0 ? f.timeNs / fnTotalNs : 0,
    }))
    .sort((a, b) => b.seconds - a.seconds || b.bytes - a.bytes || a.id - b.id);
  yield;
  const m = yield* job.pairMatrixSteps();
  yield;
  const cols = pairColumns(m);
  yield;
  // the top pairs: the candidates are cut down to `top` whenever they pile up (pairOrder is a total
  // order, so the same pairs as sorting them all)
  const pairs: PairReport[] = [];
  const keep = top >= 0 && top < Infinity ? Math.floor(top) : Infinity; // slice(0, top) does the rest
  for (let i = 0; i < cols.n; i++) {
    pairs.push({ src: cols.src[i], dst: cols.dst[i], bytes: cols.bytes[i], messages: cols.messages[i] });
    if (pairs.length >= 2 * keep + 4096) {
      pairs.sort(pairOrder);
      pairs.length = keep;
      yield;
    } else if ((i + 1) % PAIRS_PER_STEP === 0) yield;
  }
  pairs.sort(pairOrder);
  yield;
  // small jobs: size x size as always; large ones: blocks (the same for every epoch)
  const full = P <= MAX_BLOCKS;
  const plan = full ? null : jobBlocks(job);
  const epochList = job.epochs();
  const epochs: JobReport['epochs'] = [];
  if (epochList.length > 1) {
    for (const e of epochList) {
      const em = yield* job.pairMatrixSteps(e);
      yield;
      const ec = pairColumns(em);
      yield;
      const c = plan ? yield* coarsenSteps(ec, plan) : null;
      epochs.push({
        epoch: e,
        ...(c ? { coarse: { bytes: c.bytes, messages: c.messages } } : toDense(em)),
        ...(opts.fullMatrix ? { sparse: yield* sparseSteps(ec) } : {}),
      });
      yield;
    }
  }
  const matrix = full ? toDense(m) : undefined;
  const coarseMatrix = plan ? yield* coarsenSteps(cols, plan) : undefined;
  const sparseMatrix = opts.fullMatrix ? yield* sparseSteps(cols) : undefined;
  yield;
  const picked = yield* selectRanks(ranks, top);
  const classification = yield* classifySteps(job, opts.classify);
  const losses = job.losses;
  const report: JobReport = {
    id: job.id,
    program: job.program,
    size: P,
    complete: job.ranksFinished === P,
    endReason: job.endReason,
    ranksSeen: job.ranksSeen,
    ranksFinished: job.ranksFinished,
    wallSeconds: job.wallNs / 1e9,
    mpiSeconds: mpiTotal / 1e9,
    mpiFraction: job.mpiFraction,
    initFinalizeSeconds: ranks.reduce((n, k) => n + k.initFinalizeSeconds, 0),
    records: job.records,
    ranks: picked.ranks,
    rankSummary: picked.summary,
    functions,
    pairCount: m.pairCount,
    matrix,
    coarseMatrix,
    sparseMatrix,
    epochs,
    topPairs: pairs.slice(0, top),
    dropped: {
      records: losses.droppedRecords,
      lostBatches: losses.lostBatches,
      lostRecords: losses.lostRecords,
      duplicateBatches: losses.duplicateBatches,
      invalidPeerRecords: ranks.reduce((n, k) => n + k.invalidPeerRecords, 0),
      unknownFunctionRecords: ranks.reduce((n, k) => n + k.unknownFunctionRecords, 0),
      badFrames: opts.badFrames?.get(job.id) ?? 0,
    },
    unexpandedCollectives: job.unexpandedCollectives,
    limits: job.limitNotes,
    placementSwitches: job
      .placementSwitches()
      .map((w) => ({ ...w, commSize: w.comm >= 0 ? job.comms[w.comm].members.length : 0 })),
    rates: job.rates(),
    classification,
  };
  if (opts.histograms ?? true) {
    // every pair's for small jobs (or on request), else the top pairs' only
    const all = full || opts.fullMatrix === true;
    const hp = all
      ? job.histogramPairs()
      : pairs.slice(0, top).map((p) => ({ ...p, counts: job.histogram(p.src, p.dst) }));
    yield;
    const hpairs: Array<{ src: number; dst: number; counts: number[] }> = [];
    for (const h of hp) {
      if (!all && h.counts.every((c) => c === 0)) continue;
      hpairs.push({ src: h.src, dst: h.dst, counts: Array.from(h.counts) });
      if (hpairs.length % 1024 === 0) yield;
    }
    if (!all) hpairs.sort((a, b) => a.src - b.src || a.dst - b.dst);
    report.histograms = {
      scope: all ? 'all' : 'topPairs',
      bucketMinBytes: Array.from({ length: 65 }, (_, k) => bucketLow(k)),
      pairs: hpairs,
    };
  }
  return report;
}

function* buildReportSteps(jobs: readonly JobProfile[], opts: ReportOptions): Steps<Report> {
  const generatedAt = new Date().toISOString();
  const reports: JobReport[] = [];
  for (const j of jobs) reports.push(yield* jobReportSteps(j, opts));
  return { schema: REPORT_SCHEMA_VERSION, generator: 'sitempi', generatedAt, jobs: reports };
}

/** The report object for some jobs (see docs/report-json.md). */
export function buildReport(jobs: readonly JobProfile[], opts: ReportOptions = {}): Report {
  return runSteps(buildReportSteps(jobs, opts));
}

/** buildReport, yielding to the event loop every ~10 ms. */
export function buildReportAsync(jobs: readonly JobProfile[], opts: ReportOptions = {}): Promise<Report> {
  return runStepsAsync(buildReportSteps(jobs, opts));
}

/** A report object as JSON, yielding to the event loop every ~10 ms (same text as JSON.stringify). */
export function reportJsonAsync(report: Report): Promise<string> {
  return runStepsAsync(jsonSteps(report));
}

function* formatJsonSteps(jobs: readonly JobProfile[], opts: ReportOptions): Steps<string> {
  return yield* jsonSteps(yield* buildReportSteps(jobs, opts));
}

/** The JSON report as one line of text (no trailing newline). */
export function formatJson(jobs: readonly JobProfile[], opts: ReportOptions = {}): string {
  return runSteps(formatJsonSteps(jobs, opts));
}

/** formatJson, yielding to the event loop every ~10 ms. */
export function formatJsonAsync(jobs: readonly JobProfile[], opts: ReportOptions = {}): Promise<string> {
  return runStepsAsync(formatJsonSteps(jobs, opts));
}

function* formatTextSteps(jobs: readonly JobProfile[], opts: ReportOptions): Steps<string> {
  if (jobs.length === 0)
    return 'sitempi: no MPI job reported to the monitor (was the program an MPI program, and was the shim loaded?)\n';
  const texts: string[] = [];
  for (const j of jobs) {
    texts.push(formatJobText(yield* jobReportSteps(j, { ...opts, histograms: false, fullMatrix: false }), opts));
    yield;
  }
  return texts.join('\n');
}

/** Human-readable report of some jobs. */
export function formatText(jobs: readonly JobProfile[], opts: ReportOptions = {}): string {
  return runSteps(formatTextSteps(jobs, opts));
}

/** formatText, yielding to the event loop every ~10 ms. */
export function formatTextAsync(jobs: readonly JobProfile[], opts: ReportOptions = {}): Promise<string> {
  return runStepsAsync(formatTextSteps(jobs, opts));
}
