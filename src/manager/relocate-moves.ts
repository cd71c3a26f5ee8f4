// From the planner's moves (ranks per site) to node migrations, and the order that keeps every
// site within its slots. Pure: the relocator (relocate.ts) runs the steps.
//
// A node is a VM: it migrates with the slots its jobs hold on it. A site's capacity is the slots of
// the nodes it started with (its hosts); nodes no job holds are free slots, whichever site their VM
// sits on, so a free node migrates to the site a job's node leaves (bookkeeping: no job stalls).
import type { Cluster, NodeShare } from './cluster.js';
import { stageMoves } from './stage.js';

export interface Migration {
  node: string;
  from: string;
  to: string;
  /** The manager's job id, or null for a free node. */
  job: string | null;
}

/**
 * Migrations run together: one job's nodes (or one free node), each fitting when it runs. A cycle
 * between full sites is broken by stop-and-copy: one VM stops and leaves its site first
 * (`suspend`: it holds no site's slots while its image crosses), the others move into the room it
 * left, and it starts on its destination once that has room (`resume`).
 */
export interface Step {
  migrations: Migration[];
  /** absent: the migrations move; 'suspend': the one VM stops and leaves; 'resume': it arrives */
  stage?: 'suspend' | 'resume';
}

/** Slots each site holds for jobs, from the nodes' current sites. */
export function heldPerSite(cluster: Cluster): Map<string, number> {
  const m = new Map(cluster.sites.map((s) => [s, 0]));
  for (const n of cluster.nodes) m.set(n.site, m.get(n.site)! + cluster.used(n.name));
  return m;
}

/**
 * The node of each rank. mpirun gets the job's slots as a host list (launcher.ts hostList: the
 * hosts in the order of the job's nodes, each with the slots of its nodes there) and fills it rank
 * by rank. A rank whose host (its Hello's, from gethostname) is a host of the job's nodes takes the
 * next slot of that host: the truth wherever nodes are hosts of their own (the testbed). Nodes that
 * share a host (localhost) are told apart by that order alone, and where no node's host is the
 * rank's (every node "localhost", the ranks on this machine's name) the rank takes its place in
 * the host list: virtual nodes on one machine are what the manager says they are.
 */
export function rankNodes(cluster: Cluster, shares: readonly NodeShare[], hosts: readonly string[]): string[] {
  const byHost = new Map<string, string[]>();
  for (const s of shares) {
    const h = cluster.node(s.node).host;
    const slots = byHost.get(h) ?? [];
    for (let i = 0; i < s.slots; i++) slots.push(s.node);
    byHost.set(h, slots);
  }
  const order = [...byHost.values()].flat();
  const taken = new Map<string, number>();
  return hosts.map((h, r) => {
    const key = byHost.has(h) ? h : byHost.has(h.split('.')[0]) ? h.split('.')[0] : undefined;
    if (key === undefined) return order[r];
    const i = taken.get(key) ?? 0;
    taken.set(key, i + 1);
    return byHost.get(key)![i] ?? order[r];
  });
}

/**
 * The job's nodes that go where the planner wants its ranks: from each site that loses ranks, its
 * nodes there (the fewest slots first, so that a move takes no more ranks than asked) to the sites
 * that gain them.
 */
export function jobMigrations(
  cluster: Cluster,
  job: string,
  sites: readonly string[],
  from: readonly number[],
  to: readonly number[],
): Migration[] {
  const out: Migration[] = [];
  const gain = to.map((t, s) => Math.max(0, t - from[s]));
  for (let s = 0; s < sites.length; s++) {
    let give = from[s] - to[s];
    if (give <= 0) continue;
    const nodes = cluster.nodes
      .filter((n) => n.site === sites[s] && (cluster.holders(n.name).get(job) ?? 0) > 0)
      .sort((a, b) => cluster.holders(a.name).get(job)! - cluster.holders(b.name).get(job)!);
    for (const n of nodes) {
      if (give <= 0) break;
      const t = gain.findIndex((g) => g > 0);
      if (t < 0) break;
      const k = cluster.holders(n.name).get(job)!;
      out.push({ node: n.name, from: sites[s], to: sites[t], job });
      gain[t] -= k;
      give -= k;
    }
  }
  return out;
}

/**
 * Free nodes that move so that every site keeps the number of nodes it started with once the jobs'
 * nodes have moved (the testbed's sites hold that many VMs).
 */
export function freeNodeMigrations(
  cluster: Cluster,
  home: ReadonlyMap<string, number>,
  jobMoves: readonly Migration[],
): Migration[] {
  const count = new Map(cluster.sites.map((s) => [s, 0]));
  for (const n of cluster.nodes) count.set(n.site, count.get(n.site)! + 1);
  for (const m of jobMoves) {
    count.set(m.from, count.get(m.from)! - 1);
    count.set(m.to, count.get(m.to)! + 1);
  }
  const moving = new Set(jobMoves.map((m) => m.node));
  const out: Migration[] = [];
  for (const s of cluster.sites) {
    const idle = cluster.nodes.filter((n) => n.site === s && cluster.used(n.name) === 0 && !moving.has(n.name));
    while (count.get(s)! > (home.get(s) ?? 0) && idle.length > 0) {
      const to = cluster.sites.find((t) => count.get(t)! < (home.get(t) ?? 0));
      if (!to) break;
      out.push({ node: idle.shift()!.name, from: s, to, job: null });
      count.set(s, count.get(s)! - 1);
      count.set(to, count.get(to)! + 1);
    }
  }
  return out;
}

/**
 * The order of the migrations, so that no site ever holds more slots than it has (stage.ts): a
 * job's nodes go together when the slots they need are free at their destinations; else one node
 * at a time; when nothing fits, one VM of a job in `suspendFirst` (the jobs moved to make room) is
 * stopped, the one holding the fewest slots, and resumes as soon as its destination has room. Free
 * nodes come last (they hold no slots).
 */
export function orderSteps(
  cluster: Cluster,
  capacity: ReadonlyMap<string, number>,
  migrations: readonly Migration[],
  suspendFirst: ReadonlySet<string> = new Set(),
): Step[] {
  const items = migrations.map((m) => ({
    m,
    job: m.job,
    from: m.from,
    to: m.to,
    slots: m.job === null ? 0 : (cluster.holders(m.node).get(m.job) ?? 0),
  }));
  return stageMoves(heldPerSite(cluster), capacity, items, suspendFirst).map((s) => ({
    migrations: s.items.map((x) => x.m),
    ...(s.stage ? { stage: s.stage } : {}),
  }));
}
