// The cluster model of the manager: sites, the nodes of each site with their MPI slots, the link
// between every pair of sites, and which job holds how many slots of which node.

export interface ClusterNode {
  /** Unique name, e.g. "a0". */
  name: string;
  site: string;
  /** Host name mpirun reaches the node by (several nodes may share one, e.g. "localhost"). */
  host: string;
  /** MPI slots of the node. */
  slots: number;
}

export interface ClusterLink {
  /** Directed: from site → to site. */
  from: string;
  to: string;
  latencyMs: number;
  /** Bits per second; 0 = unlimited. */
  bandwidthBps: number;
}

export interface ClusterSpec {
  sites: string[];
  nodes: ClusterNode[];
  links: ClusterLink[];
}

/** Slots of one node given to a job. */
export interface NodeShare {
  node: string;
  slots: number;
}

export class ClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterError';
  }
}

/** A checked cluster and who holds its slots. */
export class Cluster {
  readonly sites: readonly string[];
  readonly nodes: readonly ClusterNode[];
  readonly links: readonly ClusterLink[];
  private readonly byName = new Map<string, ClusterNode>();
  /** node → job → slots held */
  private readonly held = new Map<string, Map<string, number>>();

  constructor(spec: ClusterSpec) {
    checkSpec(spec);
    this.sites = [...spec.sites];
    this.nodes = spec.nodes.map((n) => ({ ...n }));
    this.links = spec.links.map((l) => ({ ...l }));
    for (const n of this.nodes) {
      this.byName.set(n.name, n);
      this.held.set(n.name, new Map());
    }
  }

  node(name: string): ClusterNode {
    const n = this.byName.get(name);
    if (!n) throw new ClusterError(`unknown node ${name}`);
    return n;
  }

  link(from: string, to: string): ClusterLink | undefined {
    return this.links.find((l) => l.from === from && l.to === to);
  }

  nodesOf(site: string): ClusterNode[] {
    return this.nodes.filter((n) => n.site === site);
  }

  /** Slots of the site, free or not. */
  capacity(site?: string): number {
    return this.nodes.filter((n) => site === undefined || n.site === site).reduce((s, n) => s + n.slots, 0);
  }

  used(node: string): number {
    let s = 0;
    for (const v of this.held.get(node)?.values() ?? []) s += v;
    return s;
  }

  free(node: string): number {
    return this.node(node).slots - this.used(node);
  }

  /** The jobs on a node and their slots. */
  holders(node: string): ReadonlyMap<string, number> {
    return this.held.get(node) ?? new Map();
  }

  /** Gives a job its slots; throws (and changes nothing) where a node would be over its capacity. */
  allocate(job: string, shares: readonly NodeShare[]): void {
    for (const s of shares) {
      if (!Number.isInteger(s.slots) || s.slots < 1) throw new ClusterError(`job ${job}: bad slot count ${s.slots}`);
      if (this.free(s.node) < s.slots)
        throw new ClusterError(`job ${job}: node ${s.node} has ${this.free(s.node)} free slots, not ${s.slots}`);
      if (this.held.get(s.node)!.has(job)) throw new ClusterError(`job ${job} already holds node ${s.node}`);
    }
    for (const s of shares) this.held.get(s.node)!.set(job, s.slots);
  }

  release(job: string): void {
    for (const m of this.held.values()) m.delete(job);
  }

  /** A node (a VM) migrated to another site: its jobs' slots go with it. */
  moveNode(name: string, site: string): void {
    if (!this.sites.includes(site)) throw new ClusterError(`unknown site ${site}`);
    this.node(name).site = site;
  }
}

function checkSpec(spec: ClusterSpec): void {
  if (spec.sites.length === 0) throw new ClusterError('a cluster needs at least one site');
  const sites = new Set<string>();
  for (const s of spec.sites) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(s))
      throw new ClusterError(`bad site name "${s}" (a letter, then letters, digits or _)`);
    if (sites.has(s)) throw new ClusterError(`site ${s} given twice`);
    sites.add(s);
  }
  const names = new Set<string>();
  for (const n of spec.nodes) {
    if (!n.name || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(n.name))
      throw new ClusterError(`bad node name "${n.name}" (letters, digits, _ . -)`);
    if (names.has(n.name)) throw new ClusterError(`node ${n.name} given twice`);
    names.add(n.name);
    if (!sites.has(n.site))
      throw new ClusterError(`node ${n.name}: unknown site ${n.site} (sites: ${spec.sites.join(', ')})`);
    if (!n.host || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,252}$/.test(n.host))
      throw new ClusterError(`node ${n.name}: bad host "${n.host}"`);
    if (!Number.isInteger(n.slots) || n.slots < 1 || n.slots > 4096)
      throw new ClusterError(`node ${n.name}: slots must be an integer 1..4096, not ${n.slots}`);
  }
  for (const s of spec.sites)
    if (!spec.nodes.some((n) => n.site === s)) throw new ClusterError(`site ${s} has no nodes`);
  const seen = new Set<string>();
  for (const l of spec.links) {
    for (const x of [l.from, l.to])
      if (!sites.has(x)) throw new ClusterError(`link ${l.from}-${l.to}: unknown site ${x}`);
    if (l.from === l.to) throw new ClusterError(`link ${l.from}-${l.to}: a link joins two different sites`);
    if (seen.has(`${l.from}>${l.to}`)) throw new ClusterError(`link ${l.from}-${l.to} given twice`);
    seen.add(`${l.from}>${l.to}`);
    if (!Number.isFinite(l.latencyMs) || l.latencyMs < 0)
      throw new ClusterError(`link ${l.from}-${l.to}: latency must be ≥ 0 ms`);
    if (!Number.isFinite(l.bandwidthBps) || l.bandwidthBps < 0)
      throw new ClusterError(`link ${l.from}-${l.to}: bandwidth must be ≥ 0`);
  }
  for (const a of spec.sites)
    for (const b of spec.sites)
      if (a !== b && !seen.has(`${a}>${b}`)) throw new ClusterError(`no link between sites ${a} and ${b}`);
}
