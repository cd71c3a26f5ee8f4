// Reports of job profiles: JSON for machines (schema in docs/report-json.md) and text for people.
//
// Building a report walks P x P matrices (one per placement epoch too) and writes them as JSON:
// seconds for thousands of ranks. The work is written once, in steps (monitor/steps.ts): the
// synchronous functions run the steps at once, the *Async ones yield to the event loop every ~10 ms
// so that a monitor goes on serving other clients while it writes a report.
import { classifySteps } from '../monitor/classify.js';
import { bucketLow, type FunctionStats, type JobProfile } from '../monitor/job.js';
import { runSteps, runStepsAsync, type Steps } from '../monitor/steps.js';
import { jsonSteps } from './json.js';
import type { FunctionReport, JobReport, PairReport, RankReport, Report, ReportOptions } from './types.js';

export const REPORT_SCHEMA_VERSION = 1;

export type { ReportOptions, RankReport, FunctionReport, PairReport, JobReport, Report } from './types.js';

function* dense(a: { num(i: number): number }, P: number): Steps<number[][]> {
  const out: number[][] = [];
  for (let s = 0; s < P; s++) {
    const row = new Array<number>(P);
    for (let d = 0; d < P; d++) row[d] = a.num(s * P + d);
    out.push(row);
    yield;
  }
  return out;
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
  const m = yield* job.matrixSteps();
  // the top pairs: the candidates are cut down to `top` whenever they pile up (pairOrder is a total
  // order, so the same pairs as sorting them all)
  const pairs: PairReport[] = [];
  const keep = top >= 0 && top < Infinity ? Math.floor(top) : Infinity; // slice(0, top) does the rest
  for (let s = 0; s < P; s++) {
    for (let d = 0; d < P; d++) {
      const b = m.bytes.num(s * P + d),
        k = m.messages.num(s * P + d);
      if (b > 0 || k > 0) pairs.push({ src: s, dst: d, bytes: b, messages: k });
    }
    if (pairs.length >= keep + 4096) {
      pairs.sort(pairOrder);
      pairs.length = keep;
    }
    yield;
  }
  pairs.sort(pairOrder);
  const epochList = job.epochs();
  const epochs: JobReport['epochs'] = [];
  if (epochList.length > 1) {
    for (const e of epochList) {
      const em = yield* job.matrixSteps(e);
      epochs.push({ epoch: e, bytes: yield* dense(em.bytes, P), messages: yield* dense(em.messages, P) });
    }
  }
  const matrix = { bytes: yield* dense(m.bytes, P), messages: yield* dense(m.messages, P) };
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
    ranks,
    functions,
    matrix,
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
    const hp = job.histogramPairs();
    yield;
    const hpairs: Array<{ src: number; dst: number; counts: number[] }> = [];
    for (const h of hp) {
      hpairs.push({ src: h.src, dst: h.dst, counts: Array.from(h.counts) });
      if (hpairs.length % 1024 === 0) yield;
    }
    report.histograms = { bucketMinBytes: Array.from({ length: 65 }, (_, k) => bucketLow(k)), pairs: hpairs };
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

// --- text ------------------------------------------------------------------------------------

const SI = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
/** 1234567 -> "1.23 MB" (decimal units, like the MB/s of Tatezono et al.). */
export function formatBytes(b: number): string {
  let i = 0;
  let v = b;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${b} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${SI[i]}B`;
}

export function formatCount(n: number): string {
  if (n < 1e4) return String(n);
  let i = 0;
  let v = n;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${SI[i]}`;
}

function secs(s: number): string {
  if (s === 0) return '0';
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)}us`;
  if (s < 1) return `${(s * 1e3).toFixed(2)}ms`;
  return `${s.toFixed(3)}s`;
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    '  ' +
    r
      .map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** Human-readable report of one job. */
export function formatJobText(r: JobReport, opts: ReportOptions = {}): string {
  const top = opts.top ?? 10;
  const out: string[] = [];
  const state = r.complete
    ? 'complete'
    : `incomplete: ${r.ranksFinished}/${r.size} ranks finished${r.endReason ? `, ${r.endReason}` : ''}`;
  out.push(
    `sitempi: job ${r.id}${r.program ? ` (${r.program})` : ''} - ${r.size} ranks, wall ${secs(r.wallSeconds)}, ${(r.mpiFraction * 100).toFixed(1)}% in MPI, ${formatCount(r.records)} records (${state})`,
  );
  const c = r.classification;
  out.push('');
  out.push(`Classification: ${c.verdict}`);
  for (const why of c.reasons) out.push(`  - ${why}`);
  out.push('');
  out.push('Time in MPI per rank');
  const rankRows = r.ranks.map((k) => [
    String(k.rank),
    k.host || '-',
    secs(k.wallSeconds),
    secs(k.mpiSeconds),
    `${(k.mpiFraction * 100).toFixed(1)}%`,
    formatCount(k.calls),
    String(k.droppedRecords + k.lostRecords),
    k.seen ? (k.finished ? '' : 'no Bye') : 'never connected',
  ]);
  rankRows.push([
    'all',
    '',
    secs(r.wallSeconds),
    secs(r.mpiSeconds),
    `${(r.mpiFraction * 100).toFixed(1)}%`,
    formatCount(r.ranks.reduce((s, k) => s + k.calls, 0)),
    String(r.dropped.records + r.dropped.lostRecords),
    '',
  ]);
  out.push(
    ...table(['rank', 'host', 'wall', 'MPI', 'MPI%', 'calls', 'lost', ''], rankRows, [
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      false,
    ]),
  );
  const fnRows = (list: FunctionReport[]) =>
    list
      .slice(0, top)
      .map((f) => [
        f.name,
        formatCount(f.count),
        secs(f.seconds),
        `${(f.mpiShare * 100).toFixed(1)}%`,
        formatBytes(f.bytes),
        f.count > 0 ? formatBytes(Math.round(f.bytes / f.count)) : '-',
      ]);
  const head = ['function', 'calls', 'time', '%MPI', 'bytes', 'bytes/call'];
  const right = [false, true, true, true, true, true];
  out.push('');
  out.push('Top functions by time (summed over ranks)');
  out.push(...(r.functions.length ? table(head, fnRows(r.functions), right) : ['  (no MPI calls recorded)']));
  const byBytes = [...r.functions].filter((f) => f.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.id - b.id);
  out.push('');
  out.push(
    `Top functions by bytes${r.dropped.invalidPeerRecords ? ' (every call record: also those with invalid peers, see below)' : ''}`,
  );
  out.push(...(byBytes.length ? table(head, fnRows(byBytes), right) : ['  (no data moved)']));
  out.push('');
  out.push('Heaviest rank pairs (point-to-point, one-sided and expanded collectives)');
  out.push(
    ...(r.topPairs.length
      ? table(
          ['src', 'dst', 'bytes', 'messages', 'bytes/msg'],
          r.topPairs.map((p) => [
            String(p.src),
            String(p.dst),
            formatBytes(p.bytes),
            formatCount(p.messages),
            p.messages > 0 ? formatBytes(Math.round(p.bytes / p.messages)) : '-',
          ]),
          [true, true, true, true, true],
        )
      : ['  (no traffic between ranks)']),
  );
  const n = c.numbers;
  out.push('');
  out.push(
    `Split in halves: ${formatBytes(n.crossBytes)} in ${formatCount(n.crossMessages)} messages would cross sites ` +
      `(${(n.crossFraction * 100).toFixed(1)}% of ${formatBytes(n.totalBytes)}), ${formatBytes(n.crossBytesPerSecond)}/s over ${secs(n.wallSeconds)}`,
  );
  const d = r.dropped;
  if (d.records || d.lostBatches || d.lostRecords) {
    out.push(
      `Lost data: ${d.records} records dropped by the shim, ${d.lostBatches} batches and ${d.lostRecords} records lost in transit: figures are lower bounds`,
    );
  }
  if (d.badFrames)
    out.push(
      `Corrupt data: ${d.badFrames} frames of the rank files did not decode and were skipped: figures are lower bounds`,
    );
  if (d.invalidPeerRecords) {
    const who = r.ranks
      .filter((k) => k.invalidPeerRecords > 0)
      .map((k) => `rank ${k.rank}: ${k.invalidPeerRecords}`)
      .slice(0, 8)
      .join(', ');
    out.push(
      `Invalid peers: ${d.invalidPeerRecords} records name a peer outside 0..${r.size - 1} (${who}): the function tables count them, the matrix and the pairs leave them out`,
    );
  }
  if (d.unknownFunctionRecords)
    out.push(
      `Unknown functions: ${d.unknownFunctionRecords} call records of function ids this monitor does not know (a newer shim?) are in no table`,
    );
  for (const l of r.limits) out.push(`Limit reached: ${l}`);
  if (r.unexpandedCollectives > 0)
    out.push(
      `Collective calls not expanded into the matrix (unknown or inter-communicator, unmodelled): ${r.unexpandedCollectives}`,
    );
  return out.join('\n') + '\n';
}

function* formatTextSteps(jobs: readonly JobProfile[], opts: ReportOptions): Steps<string> {
  if (jobs.length === 0)
    return 'sitempi: no MPI job reported to the monitor (was the program an MPI program, and was the shim loaded?)\n';
  const texts: string[] = [];
  for (const j of jobs) {
    texts.push(formatJobText(yield* jobReportSteps(j, { ...opts, histograms: false }), opts));
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
