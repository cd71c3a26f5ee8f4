// The simulator's job model (docs/planner.md): a job's run time on a placement from its compute
// time and its communication. A parametric model of the live programs' classes:
//
//   T = compute + (spans > 1 ? chain * RTT : 0) + crossFraction * bytes / (bandwidth / users)
//
// - chain: messages on the critical path that wait one round trip each once the job spans sites
//   (a wavefront's pipeline steps, a CG's small allreduces);
// - bytes: the job's all-pairs traffic over the run; the fraction that crosses is that of rank
//   pairs on different sites (all-to-all-ish), sharing the link with the `users` that cross it.
// On one site a job runs `compute` seconds (its local communication folded in). The classes of the
// stream: fitted from the live scenario's runs (live-profiles.ts), or the issue's guesses.
import { crossFraction, spanned, worstLink, type LinkTable } from '../planner-model.js';

export type ProfileName = 'EP' | 'LU' | 'CG';

export interface SimJob {
  id: string;
  profile: ProfileName;
  verdict: 'network' | 'compute';
  ranks: number;
  /** arrival, seconds */
  at: number;
  computeSeconds: number;
  chainMessages: number;
  bytes: number;
}

/** Run time on `counts` (ranks per site); `users(a, b)` is how many share link a-b (≥ 1). */
export function runSeconds(
  j: SimJob,
  counts: readonly number[],
  links: LinkTable,
  users: (a: number, b: number) => number = () => 1,
): number {
  if (spanned(counts) <= 1) return j.computeSeconds;
  const w = worstLink(counts, links);
  let share = Infinity;
  for (let a = 0; a < counts.length; a++)
    for (let b = a + 1; b < counts.length; b++)
      if (counts[a] > 0 && counts[b] > 0) share = Math.min(share, links.bandwidth[a][b] / 8 / Math.max(1, users(a, b)));
  return j.computeSeconds + j.chainMessages * 2 * w.latency + (crossFraction(counts) * j.bytes) / share;
}

/** A small deterministic generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What a class of job does once split: dependent round trips and all-pairs traffic. */
export interface ClassProfile {
  /** messages on the critical path per second of compute, each waiting a WAN round trip */
  chainPerSecond: number;
  /** all-pairs traffic, bytes per rank per minute of compute */
  bytesPerRankMinute: number;
  verdict: 'network' | 'compute';
}

/**
 * The classes as the issue's text guessed them: LU 15 wavefront steps a second on its critical path
 * and 2 MB per rank a minute, CG 20 small allreduces a second and 40 MB per rank a minute, EP none.
 * At a 20 ms RTT a split LU runs about 1.3 x, a split CG 1.4 x and more. The default stream's
 * classes are the live programs' instead (live-profiles.ts).
 */
export const ISSUE_PROFILES: Record<ProfileName, ClassProfile> = {
  EP: { chainPerSecond: 0, bytesPerRankMinute: 0, verdict: 'compute' },
  LU: { chainPerSecond: 15, bytesPerRankMinute: 2e6, verdict: 'network' },
  CG: { chainPerSecond: 20, bytesPerRankMinute: 40e6, verdict: 'network' },
};

export interface StreamOptions {
  jobs: number;
  seed: number;
  /** Mean seconds between arrivals. */
  meanGapSeconds: number;
  profiles: Record<ProfileName, ClassProfile>;
}

/**
 * A stream of jobs: EP-like, LU-like and CG-like in equal parts, 4..512 ranks (powers of two),
 * compute 5..30 minutes, Poisson arrivals; each class as `profiles` says. The draws do not depend
 * on the profiles: two streams of one seed differ only in what a split costs.
 */
export function jobStream(o: StreamOptions): SimJob[] {
  const r = rng(o.seed);
  const out: SimJob[] = [];
  let t = 0;
  for (let i = 0; i < o.jobs; i++) {
    t += -Math.log(1 - r()) * o.meanGapSeconds;
    const profile: ProfileName = (['EP', 'LU', 'CG'] as const)[Math.floor(r() * 3)];
    const ranks = 4 << Math.floor(r() * 8);
    const computeSeconds = 300 + Math.floor(r() * 1500);
    const c = o.profiles[profile];
    out.push({
      id: `j${i}`,
      profile,
      verdict: c.verdict,
      ranks,
      at: t,
      computeSeconds,
      chainMessages: Math.round(c.chainPerSecond * computeSeconds),
      bytes: ranks * (computeSeconds / 60) * c.bytesPerRankMinute,
    });
  }
  return out;
}
