// Whether a network-intensive job that only a free site could hold starts split now or waits for
// that site: the simulator's planner rule (planner-place.ts, WaitRule) with what the live manager
// knows. The time a split run loses comes from the last run of the job's name in the history (its
// traffic, the share of it the split sends across, relocationGain's formula on the slowest link it
// spans); the wait from the running jobs' remaining times (remaining.ts, as the planner last
// estimated them) and the slots they hold on each site. Unknown either way: it waits, as a job
// with a network verdict always did.
import type { HistoryStore } from '../history/store.js';
import { relocationGain } from '../placement/cost.js';
import type { Cluster, NodeShare } from './cluster.js';
import type { JobRecord } from './job-record.js';
import { crossFraction, linkTable, worstLink } from './planner-model.js';
import { waitForRoom, type Release } from './planner-place.js';

/** The job name's last run, from the history. */
export interface PastTraffic {
  ranks: number;
  wallSeconds: number;
  /** Bytes and messages of the whole run, all rank pairs. */
  bytes: number;
  messages: number;
  mpiFraction: number;
}

/** Seconds a run on ranks-per-site `counts` loses against one site, over the past run's length. */
export function splitLoss(
  past: PastTraffic,
  counts: readonly number[],
  link: { latency: number; bandwidth: number }, // worstLink's: seconds, bits/s (Infinity: unlimited)
) {
  const f = crossFraction(counts);
  if (f === 0) return 0;
  return relocationGain(
    {
      ranks: past.ranks,
      wallSeconds: past.wallSeconds,
      mpiFraction: past.mpiFraction,
      crossBytesBefore: past.bytes * f,
      crossBytesAfter: 0,
      crossMessagesBefore: past.messages * f,
      crossMessagesAfter: 0,
    },
    { latencySeconds: link.latency, bandwidthBps: link.bandwidth },
  ).gainSeconds;
}

/** True to wait: the split run would lose more than the wait for one site. */
export function waitRather(
  cluster: Cluster,
  split: readonly NodeShare[],
  np: number,
  past: PastTraffic | null,
  releases: readonly Release[],
): boolean {
  if (!past || !(past.wallSeconds > 0)) return true;
  const siteOf = (node: string) => cluster.node(node).site;
  const counts = cluster.sites.map((s) => split.filter((x) => siteOf(x.node) === s).reduce((a, x) => a + x.slots, 0));
  const links = linkTable({ sites: cluster.sites.map((name) => ({ name, slots: 0 })), links: [...cluster.links] });
  const lost = splitLoss(past, counts, worstLink(counts, links));
  const free = (s: string) => cluster.nodesOf(s).reduce((a, n) => a + cluster.free(n.name), 0);
  const wait = waitForRoom(
    np,
    cluster.sites.map((s) => ({ site: s, capacity: cluster.capacity(s), free: free(s) })),
    releases,
  );
  return Number.isNaN(wait) || lost > wait;
}

/** The last run of a job name in the history (null: none, no history, or it cannot be read). */
export function lastTraffic(store: HistoryStore | undefined, name: string): PastTraffic | null {
  if (!store || !name) return null;
  try {
    const j = store.list({ name, limit: 4 }).find((x) => x.name === name);
    return j
      ? { ranks: j.size, wallSeconds: j.wallSeconds, bytes: j.bytes, messages: j.messages, mpiFraction: j.mpiFraction }
      : null;
  } catch {
    return null; // a locked or damaged database: the job waits, as it would without this rule
  }
}

/** The running jobs' slots per site and when each is expected to end (NaN: no estimate yet). */
export function releasesOf(running: readonly JobRecord[], now: number): Release[] {
  const out: Release[] = [];
  for (const r of running) {
    const left = r.remaining ? Math.max(0, r.remaining.seconds - (now - r.remaining.at) / 1000) : NaN;
    const bySite = new Map<string, number>();
    for (const n of r.nodes) bySite.set(n.site, (bySite.get(n.site) ?? 0) + n.slots);
    for (const [site, slots] of bySite) out.push({ site, slots, inSeconds: left });
  }
  return out;
}
