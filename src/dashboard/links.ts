// Bytes crossing each WAN link over time: wanemu's counters when a testbed is up (what really
// crossed, IP headers included), else an estimate from the running jobs' matrices and where their
// ranks are (only traffic between ranks on different sites counts). One sample per tick, the last
// MAX_POINTS kept.
import type { JobProfile } from '../monitor/job.js';
import type { PairMatrix } from '../monitor/pairs.js';
import type { PlacementService } from '../placement/service.js';
import { jobSites } from './views.js';

export const MAX_POINTS = 300;

export interface LinkTotal {
  /** "A>B": from site A to site B */
  link: string;
  from: string;
  to: string;
  bytes: number;
  /** IP packets (wanemu only) */
  packets: number | null;
}

export interface LinksView {
  source: 'wanemu' | 'matrix' | null;
  /** the links in `points` order */
  links: string[];
  /** bytes per second per link, at monitor time t (ms) */
  points: Array<{ t: number; rates: number[] }>;
  /** wanemu: counters since it started; matrix: the running jobs' crossing bytes */
  totals: LinkTotal[];
  /** why there is nothing (no testbed, no site map) */
  note: string | null;
}

export interface LinkSource {
  stateDir?: string;
}

/** Sums a matrix per directed site pair, for the pairs whose ranks are on different sites. */
export function crossingByLink(pairs: PairMatrix, sites: string[], siteOf: number[]): Map<string, number> {
  const out = new Map<string, number>();
  pairs.forEach((src, dst, b) => {
    const a = siteOf[src],
      z = siteOf[dst];
    if (a === undefined || z === undefined || a === z || b === 0) return;
    const k = `${sites[a] ?? a}>${sites[z] ?? z}`;
    out.set(k, (out.get(k) ?? 0) + b);
  });
  return out;
}

export class LinkSeries {
  private readonly order: string[] = [];
  private readonly points: LinksView['points'] = [];
  private totals: LinkTotal[] = [];
  private last: { t: number; bytes: Map<string, number> } | null = null;
  /** per job: the placement and matrix of its last sample, and the crossing bytes then */
  private readonly jobBase = new WeakMap<JobProfile, { map: string; pairs: PairMatrix; bytes: Map<string, number> }>();
  private source: LinksView['source'] = null;
  private note: string | null = null;

  constructor(private readonly opts: LinkSource = {}) {}

  /** Takes a sample: the testbed's counters when it has one, else the jobs' matrices. */
  async sample(
    jobs: readonly JobProfile[],
    pairsOf: (j: JobProfile) => PairMatrix,
    svc: PlacementService | null,
    now = Date.now(),
  ): Promise<void> {
    if (this.opts.stateDir !== undefined) {
      try {
        const { counters } = await import('../testbed/links.js');
        const c = await counters({ stateDir: this.opts.stateDir });
        this.source = 'wanemu';
        this.note = null;
        this.totals = c.links.map((l) => ({
          link: `${l.from}>${l.to}`,
          from: l.from,
          to: l.to,
          bytes: l.bytes,
          packets: l.packets,
        }));
        this.add(c.at, new Map(this.totals.map((l) => [l.link, l.bytes])));
        return;
      } catch (e) {
        this.note = `testbed counters: ${(e as Error).message}`;
      }
    }
    this.sampleMatrices(jobs, pairsOf, svc, now);
  }

  private sampleMatrices(
    jobs: readonly JobProfile[],
    pairsOf: (j: JobProfile) => PairMatrix,
    svc: PlacementService | null,
    now: number,
  ): void {
    // Cumulative crossing bytes since each job's placement took effect, summed over the jobs:
    // when a job moves, its baseline restarts (the old placement's bytes no longer cross).
    const sum = new Map<string, number>(this.last?.bytes ?? []);
    let any = false;
    for (const job of jobs) {
      const where = jobSites(job, svc);
      if (!where) continue;
      any = true;
      const map = where.siteOf.join(',');
      const pairs = pairsOf(job);
      const base = this.jobBase.get(job);
      if (base && base.map === map && base.pairs === pairs) continue; // nothing new
      const cross = crossingByLink(pairs, where.sites, where.siteOf);
      for (const [k, v] of cross) {
        // a job seen for the first time counts from zero; one that moved from its new baseline
        const before = !base ? 0 : base.map === map ? (base.bytes.get(k) ?? 0) : v;
        sum.set(k, (sum.get(k) ?? 0) + Math.max(0, v - before));
      }
      this.jobBase.set(job, { map, pairs, bytes: cross });
    }
    if (!any && this.source !== 'matrix') {
      this.note ??= 'no testbed and no job with a site map: no WAN link to show';
      return;
    }
    this.source = 'matrix';
    this.note = null;
    this.totals = [...sum].map(([link, bytes]) => {
      const [from, to] = link.split('>');
      return { link, from, to, bytes, packets: null };
    });
    this.add(now, sum);
  }

  private add(t: number, bytes: Map<string, number>): void {
    for (const k of bytes.keys()) if (!this.order.includes(k)) this.order.push(k);
    if (this.last && t > this.last.t) {
      const dt = (t - this.last.t) / 1000;
      const prev = this.last.bytes;
      this.points.push({
        t,
        rates: this.order.map((k) => Math.max(0, ((bytes.get(k) ?? 0) - (prev.get(k) ?? 0)) / dt)),
      });
      if (this.points.length > MAX_POINTS) this.points.shift();
    }
    this.last = { t, bytes };
  }

  view(): LinksView {
    return { source: this.source, links: [...this.order], points: this.points, totals: this.totals, note: this.note };
  }
}
