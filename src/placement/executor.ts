// Executors carry out relocations: they move ranks (in practice: the VMs or nodes that host them)
// to other sites and say where the ranks actually ended up.
import type { MigrationEstimate } from './cost.js';
import type { SitePlacement } from './sitemap.js';

/** What an executor knows of a job: its id, size and the host of each rank (Hello.host; '' unknown). */
export interface JobInfo {
  id: string;
  size: number;
  hosts: string[];
}

export interface RelocationRequest {
  job: JobInfo;
  /** the placement in force (null: none known yet) */
  current: SitePlacement | null;
  target: SitePlacement;
  reason: string;
  /** the cost model's estimate for this move (mode, downtime), when the service computed one */
  estimate?: MigrationEstimate;
}

/**
 * A VM stopped before its move (stop-and-copy, to break a cycle between full sites: the job
 * manager's docs/manager.md), or started again where it was when that move was called off.
 */
export interface SuspendRequest {
  job: JobInfo;
  /** the ranks on the VM */
  ranks: number[];
  current: SitePlacement | null;
  /** where its move is to take the ranks (the relocate request that follows) */
  target: SitePlacement;
  reason: string;
}

/** Something moved outside the monitor (or may have): the service re-reads the placements. */
export interface ExternalChange {
  /** Date.now() when noticed */
  at: number;
  /** e.g. "node b0 moved B -> A" */
  description: string;
}

/** Link parameters between two sites, for the cost model. */
export interface LinkParams {
  latencySeconds: number;
  bandwidthBps: number;
}

export interface Executor {
  /** "testbed", "command", ... */
  readonly kind: string;
  /** Starts whatever the executor needs (state, polling); called by the service once. */
  start?(): Promise<void>;
  /** Where the job's ranks are now, as far as the executor knows; null when it cannot tell. */
  placementOf(job: JobInfo): Promise<SitePlacement | null>;
  /** Why `target` cannot be reached (capacity, unknown site...), or null when it can be tried. */
  checkTarget?(job: JobInfo, target: SitePlacement, current: SitePlacement | null): Promise<string | null>;
  /** How many VMs (hosts) the move from current to target migrates (default: distinct hosts of moving ranks). */
  vmsToMove?(job: JobInfo, current: SitePlacement | null, target: SitePlacement): number;
  /** WAN link parameters between two sites, when the executor knows them. */
  link?(from: string, to: string): LinkParams | null;
  /**
   * Carries out the move and resolves with the placement actually reached (which may differ from
   * the target: ranks sharing a node move together). Rejects with a clear Error on failure.
   */
  relocate(req: RelocationRequest): Promise<SitePlacement>;
  /** Stops the VM of `ranks`, which frees its host's slots; its move follows. Absent: nothing to do. */
  suspend?(req: SuspendRequest): Promise<void>;
  /** Starts a suspended VM again where it was (its move was called off). */
  resume?(req: SuspendRequest): Promise<void>;
  /**
   * Watches for moves made outside the monitor; calls onChange when something may have moved.
   * Returns a function that stops watching.
   */
  watch?(onChange: (ev: ExternalChange) => void): () => void;
  close?(): Promise<void>;
}

/** Distinct hosts of the ranks whose site differs between current and target (all, without current). */
export function movingHosts(job: JobInfo, current: SitePlacement | null, target: SitePlacement): string[] {
  const hosts = new Set<string>();
  for (let r = 0; r < job.size; r++) {
    const to = target.sites[target.siteOf[r]];
    const from = current ? current.sites[current.siteOf[r]] : undefined;
    if (from !== to) hosts.add(job.hosts[r] || `rank${r}`);
  }
  return [...hosts];
}
