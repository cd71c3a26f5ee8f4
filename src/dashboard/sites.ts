// The sites and their nodes, with their load (ranks of running jobs on each node): from the
// testbed's state when one is up, else from the jobs' placements and the hosts their ranks said.
import type { JobProfile } from '../monitor/job.js';
import type { PlacementService } from '../placement/service.js';
import { jobSites } from './views.js';

export interface SitesView {
  source: 'testbed' | 'placement' | null;
  sites: Array<{ name: string; nodes: Array<{ name: string; host: string; ranks: number; jobs: string[] }> }>;
}

type Node = SitesView['sites'][number]['nodes'][number];

/** jobs: those shown (their placements name the sites); only the running ones load the nodes. */
export async function sitesView(
  jobs: readonly JobProfile[],
  svc: PlacementService | null,
  stateDir: string | undefined,
): Promise<SitesView> {
  // ranks per host over the running jobs
  const load = new Map<string, { ranks: number; jobs: Set<string> }>();
  for (const j of jobs.filter((x) => !x.ended))
    for (const r of j.ranks) {
      if (!r?.host) continue;
      const l = load.get(r.host) ?? { ranks: 0, jobs: new Set<string>() };
      l.ranks++;
      l.jobs.add(j.id);
      load.set(r.host, l);
    }
  const node = (name: string, host: string): Node => {
    const l = load.get(host) ?? load.get(name);
    return { name, host, ranks: l?.ranks ?? 0, jobs: l ? [...l.jobs] : [] };
  };
  if (stateDir !== undefined) {
    const { loadState } = await import('../testbed/state.js');
    const st = await loadState({ stateDir }).catch(() => null);
    if (st)
      return {
        source: 'testbed',
        sites: st.sites.map((s) => ({
          name: s,
          nodes: st.nodes.filter((n) => n.site === s).map((n) => node(n.name, n.host)),
        })),
      };
  }
  const bySite = new Map<string, Set<string>>();
  for (const j of jobs) {
    const where = jobSites(j, svc);
    if (!where) continue;
    where.siteOf.forEach((s, rank) => {
      const name = where.sites[s] ?? `site${s}`;
      const hosts = bySite.get(name) ?? new Set<string>();
      const h = j.rank(rank)?.host;
      if (h) hosts.add(h);
      bySite.set(name, hosts);
    });
  }
  if (!bySite.size) return { source: null, sites: [] };
  return {
    source: 'placement',
    sites: [...bySite].map(([name, hosts]) => ({ name, nodes: [...hosts].sort().map((h) => node(h, h)) })),
  };
}
