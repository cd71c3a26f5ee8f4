// From the planner's moves (ranks per site) to node migrations, and the order that keeps every
// site within its slots. Pure: the relocator (relocate.ts) runs the steps.
//
// A node is a VM: it migrates with the slots its jobs hold on it. A site's capacity is the slots of
// the nodes it started with (its hosts); nodes no job holds are free slots, whichever site their VM
// sits on, so a free node migrates to the site a job's node leaves (bookkeeping: no job stalls).
import type { Cluster } from './cluster.js';

export interface Migration {
  node: string;
  from: string;
  to: string;
  /** The manager's job id, or null for a free node. */
  job: string | null;
}

/** Migrations run together: one job's nodes (or one free node), or a cycle that only fits at once. */
export interface Step {
  migrations: Migration[];
  /** true: the migrations of a cycle between full sites (each waits for the other's slot) */
  swap: boolean;
}

/** Slots each site holds for jobs, from the nodes' current sites. */
export function heldPerSite(cluster: Cluster): Map<string, number> {
  const m = new Map(cluster.sites.map((s) => [s, 0]));
  for (const n of cluster.nodes) m.set(n.site, m.get(n.site)! + cluster.used(n.name));
  return m;
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
 * The order of the migrations: a job's nodes go together when the slots they need are free at
 * their destinations; else one node at a time; what is left is a cycle between full sites (a swap),
 * run as one step. Free nodes come last (they hold no slots).
 */
export function orderSteps(
  cluster: Cluster,
  capacity: ReadonlyMap<string, number>,
  migrations: readonly Migration[],
): Step[] {
  const held = heldPerSite(cluster);
  const slotsOf = (m: Migration) => (m.job === null ? 0 : (cluster.holders(m.node).get(m.job) ?? 0));
  const fits = (ms: readonly Migration[]) => {
    const inflow = new Map<string, number>();
    for (const m of ms) inflow.set(m.to, (inflow.get(m.to) ?? 0) + slotsOf(m));
    return [...inflow].every(([s, k]) => held.get(s)! + k <= (capacity.get(s) ?? 0));
  };
  const apply = (ms: readonly Migration[]) => {
    for (const m of ms) {
      held.set(m.from, held.get(m.from)! - slotsOf(m));
      held.set(m.to, held.get(m.to)! + slotsOf(m));
    }
  };
  let pending = migrations.filter((m) => m.job !== null);
  const steps: Step[] = [];
  while (pending.length > 0) {
    const jobs = [...new Set(pending.map((m) => m.job))];
    let chosen: Migration[] | null = null;
    for (const j of jobs) {
      const ms = pending.filter((m) => m.job === j);
      if (fits(ms)) {
        chosen = ms;
        break;
      }
    }
    chosen ??= pending.find((m) => fits([m])) ? [pending.find((m) => fits([m]))!] : null;
    const swap = chosen === null;
    const step = chosen ?? pending;
    apply(step);
    steps.push({ migrations: step, swap });
    pending = pending.filter((m) => !step.includes(m));
  }
  for (const m of migrations) if (m.job === null) steps.push({ migrations: [m], swap: false });
  return steps;
}
