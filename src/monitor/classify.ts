// Network- or compute-intensive? The rule, its parameters and the numbers behind each verdict.
//
// Tatezono, Maruyama and Matsuoka (docs/references.md, section 6.3) ran NPB on a two-site virtual
// cluster and found that running over two sites paid off while the traffic crossing the
// inter-site link stayed below about 10 MB/s (LU: 3.4-6.9 MB/s, EP: 0) and hurt above it (CG: 20-41 MB/s, BT: 14-20 MB/s). We estimate that
// traffic before any split: the bytes that would cross sites if the job's ranks were split in two
// contiguous halves (0..P/2-1 | P/2..P-1, the way mpirun fills two sites), divided by the job's
// communicating phase (summary.ts, jobActiveNs: setup without communication is not averaged in;
// the whole-wall rates stay in the numbers). The rate alone misses jobs that wait on the network without moving much data, so it
// is combined with the fraction of time spent inside MPI:
//
//   network-intensive  if  crossRate >= T                                    (rule "rate")
//                      or  mpiFraction >= F  and  crossRate >= k * T         (rule "mpi-bound")
//                      or  mpiFraction >= F  and  crossMsgRate >= M          (rule "latency-bound")
//   compute-intensive  otherwise
//
// Defaults: T = 10e6 B/s (10 MB/s), F = 0.5, k = 0.1, M = 1000 messages/s. Every parameter is an
// option; `split` replaces the contiguous halves with any site assignment.
//
// That is rule 'rates'. The default, rule 'prediction' (prediction.ts, docs/replay.md): when the job
// has a window of records to replay, network-intensive iff the predicted slowdown of the same split
// exceeds maxSplitSlowdown; without one, the rates rule decides and the reasons say so.
import { crossingSumsSteps } from './crossing.js';
import { jobActiveNs, phaseSeconds } from './summary.js';
import { runSteps, type Steps } from './steps.js';
import type { JobProfile } from './job.js';
import { predictSlowdownSteps, type PredictedSlowdown, type PredictOptions } from './prediction.js';

export type Verdict = 'network-intensive' | 'compute-intensive';

export interface ClassifyOptions extends PredictOptions {
  /** 'prediction' (default): the replay's predicted slowdown decides; 'rates': the rates rule */
  rule?: 'prediction' | 'rates';
  /** T: crossing bytes per second that make a job network-intensive on its own. Default 10e6. */
  thresholdBytesPerSecond?: number;
  /** F: fraction of time in MPI above which a job counts as communication-bound. Default 0.5. */
  mpiFractionThreshold?: number;
  /** k: with mpiFraction >= F, crossRate >= k*T is enough. Default 0.1. */
  lowRateFactor?: number;
  /** M: with mpiFraction >= F, this many crossing messages per second is enough. Default 1000. */
  messageRateThreshold?: number;
  /** Site of each world rank (length = job size). Default: contiguous halves. */
  split?: ArrayLike<number>;
  /** Classify one placement epoch's matrix only (the wall time is still the job's). */
  epoch?: number;
}

/** The inputs of the rule, for callers that have them without a JobProfile. */
export interface ClassifyInput {
  ranks: number;
  wallSeconds: number;
  /** time in MPI over all ranks / wall time over all ranks */
  mpiFraction: number;
  totalBytes: number;
  totalMessages: number;
  crossBytes: number;
  crossMessages: number;
  /** the communicating phase (jobActiveNs); rates are over it when > 0, else over the wall time */
  activeSeconds?: number;
}

/** The rule's inputs and what it derived from them. */
export interface ClassificationNumbers extends ClassifyInput {
  /** crossBytes / totalBytes (0 without traffic) */
  crossFraction: number;
  crossBytesPerSecond: number;
  crossMessagesPerSecond: number;
  /** the same over the whole wall time (the rule's rates before the communicating phase) */
  crossBytesPerSecondWall: number;
  crossMessagesPerSecondWall: number;
  thresholdBytesPerSecond: number;
  mpiFractionThreshold: number;
  lowRateFactor: number;
  messageRateThreshold: number;
}

export interface Classification {
  verdict: Verdict;
  /** which rules fired ("rate", "mpi-bound", "latency-bound"); empty for compute-intensive */
  rules: string[];
  reasons: string[];
  numbers: ClassificationNumbers;
  /** the rule that decided: 'prediction', or 'rates' (asked for, or no prediction) */
  decidedBy?: 'prediction' | 'rates';
  /** the rates rule's verdict (the same as `verdict` when it decided) */
  ratesVerdict?: Verdict;
  /** the replay's predicted slowdowns (absent: the job has no window of records) */
  predictedSlowdown?: PredictedSlowdown;
}

const MB = 1e6;
const fmtRate = (b: number) => `${(b / MB).toFixed(b < 10 * MB ? 2 : 1)} MB/s`;
const pct = (f: number) => `${(f * 100).toFixed(1)}%`;

/** Sums the traffic of `job` that crosses the split (default: contiguous halves). */
export function crossTraffic(job: JobProfile, opts: Pick<ClassifyOptions, 'split' | 'epoch'> = {}): ClassifyInput {
  return runSteps(crossTrafficSteps(job, opts));
}

/** crossTraffic in steps (see steps.ts). */
export function* crossTrafficSteps(
  job: JobProfile,
  opts: Pick<ClassifyOptions, 'split' | 'epoch'> = {},
): Steps<ClassifyInput> {
  const P = job.size;
  const site = opts.split ?? Array.from({ length: P }, (_, i) => (i < Math.floor(P / 2) ? 0 : 1));
  if (site.length !== P) throw new Error(`split has ${site.length} entries, the job has ${P} ranks`);
  const m = yield* job.pairMatrixSteps(opts.epoch);
  const sums = yield* crossingSumsSteps(m, site);
  return {
    ranks: P,
    wallSeconds: job.wallNs / 1e9,
    mpiFraction: job.mpiFraction,
    totalBytes: sums.totalBytes,
    totalMessages: sums.totalMessages,
    crossBytes: sums.bytes,
    crossMessages: sums.messages,
    activeSeconds: jobActiveNs(Array.from({ length: P }, (_, i) => job.rank(i))) / 1e9,
  };
}

/** Applies the rule to numbers. */
export function classifyNumbers(x: ClassifyInput, opts: ClassifyOptions = {}): Classification {
  const T = opts.thresholdBytesPerSecond ?? 10 * MB;
  const F = opts.mpiFractionThreshold ?? 0.5;
  const k = opts.lowRateFactor ?? 0.1;
  const M = opts.messageRateThreshold ?? 1000;
  const span = phaseSeconds(x);
  const rate = span > 0 ? x.crossBytes / span : 0;
  const msgRate = span > 0 ? x.crossMessages / span : 0;
  const numbers: ClassificationNumbers = {
    ...x,
    crossFraction: x.totalBytes > 0 ? x.crossBytes / x.totalBytes : 0,
    crossBytesPerSecond: rate,
    crossMessagesPerSecond: msgRate,
    crossBytesPerSecondWall: x.wallSeconds > 0 ? x.crossBytes / x.wallSeconds : 0,
    crossMessagesPerSecondWall: x.wallSeconds > 0 ? x.crossMessages / x.wallSeconds : 0,
    thresholdBytesPerSecond: T,
    mpiFractionThreshold: F,
    lowRateFactor: k,
    messageRateThreshold: M,
  };
  const rules: string[] = [];
  const reasons: string[] = [];
  const split = opts.split
    ? 'placed as given'
    : `split into two halves (ranks 0-${Math.floor(x.ranks / 2) - 1} | ${Math.floor(x.ranks / 2)}-${x.ranks - 1})`;
  if (x.ranks < 2) {
    reasons.push('a single rank has no traffic to split across sites');
  } else if (!(x.wallSeconds > 0)) {
    reasons.push('no timing information (wall time 0): cannot compute a rate');
  } else {
    if (rate >= T) {
      rules.push('rate');
      reasons.push(
        `${fmtRate(rate)} would cross sites if ${split}, at or above the ${fmtRate(T)} threshold (Tatezono et al.: two-site NPB runs slowed down above ~10 MB/s)`,
      );
    }
    if (x.mpiFraction >= F && rate >= k * T && rate < T) {
      rules.push('mpi-bound');
      reasons.push(
        `${pct(x.mpiFraction)} of the time is spent in MPI (>= ${pct(F)}) and ${fmtRate(rate)} would cross sites (>= ${fmtRate(k * T)}): communication is on the critical path`,
      );
    }
    if (x.mpiFraction >= F && msgRate >= M) {
      rules.push('latency-bound');
      reasons.push(
        `${pct(x.mpiFraction)} of the time is spent in MPI and ${msgRate.toFixed(0)} messages/s would cross sites (>= ${M}/s): WAN latency would dominate`,
      );
    }
    if (rules.length === 0) {
      reasons.push(`only ${fmtRate(rate)} would cross sites if ${split} (threshold ${fmtRate(T)})`);
      reasons.push(
        x.mpiFraction >= F
          ? `${pct(x.mpiFraction)} of the time is in MPI, but the crossing traffic (${fmtRate(rate)}, ${msgRate.toFixed(0)} msg/s) is below ${fmtRate(k * T)} and ${M} msg/s`
          : `${pct(x.mpiFraction)} of the time is in MPI (< ${pct(F)}): mostly computation`,
      );
    }
  }
  return { verdict: rules.length ? 'network-intensive' : 'compute-intensive', rules, reasons, numbers };
}

/** Classifies a job (see the rule at the top of this file). */
export function classify(job: JobProfile, opts: ClassifyOptions = {}): Classification {
  return runSteps(classifySteps(job, opts));
}

/** classify in steps (see steps.ts). */
export function* classifySteps(job: JobProfile, opts: ClassifyOptions = {}): Steps<Classification> {
  const c = classifyNumbers(yield* crossTrafficSteps(job, opts), opts);
  if (opts.split || opts.epoch !== undefined) return c; // the prediction is of the job's halves
  yield;
  const p = yield* predictSlowdownSteps(job, opts);
  return p ? byPrediction(c, p, opts.rule ?? 'prediction') : c;
}

/** The verdict from the predicted slowdown (rule 'prediction'), the rates rule's kept beside it. */
export function byPrediction(c: Classification, p: PredictedSlowdown, rule: 'prediction' | 'rates'): Classification {
  const out: Classification = { ...c, decidedBy: 'rates', ratesVerdict: c.verdict, predictedSlowdown: p };
  const max = p.params.maxSplitSlowdown;
  const wan = `${p.params.wanRttMs} ms RTT, ${p.params.wanMbps} Mbit/s`;
  const win = p.window.truncated ? `, from a window of ${p.window.records} of ${p.window.recordsInJob} records` : '';
  if (rule === 'rates' || p.split === null) {
    const why = rule === 'rates' ? 'rule rates asked for' : (p.missing ?? 'no prediction');
    out.reasons = [...c.reasons, `predicted slowdown not used (${why})`];
    if (p.split !== null) out.reasons.push(`predicted slowdown split in halves: ${p.split.toFixed(2)}x (${wan}${win})`);
    return out;
  }
  const network = p.split > max;
  const cur = p.current !== null ? `; on the current placement ${p.current.toFixed(2)}x` : '';
  out.decidedBy = 'prediction';
  out.verdict = network ? 'network-intensive' : 'compute-intensive';
  out.rules = network ? ['prediction'] : [];
  out.reasons = [
    `predicted slowdown split in halves over sites at ${wan}: ${p.split.toFixed(2)}x ${network ? '>' : '<='} ${max}x, the most the extra nodes pay for${cur}${win}`,
    `rates rule (not deciding): ${c.verdict}`,
    ...c.reasons,
  ];
  return out;
}
