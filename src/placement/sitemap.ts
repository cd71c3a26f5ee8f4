// Placements (world rank -> site) and the static site-map syntax shared with the shim's
// SITEMPI_SITES / SITEMPI_SITES_FILE (native/core/sites.cpp is the reference implementation):
//
//   "A:0-3;B:4-7"            ranges
//   "A:0,2,4,6;B:1,3,5,7"    lists
//   "A:@node-a*;B:@node-b*"  host-name globs (*, ?, [...]) matched against the ranks' Hello.host
//
// Sites are separated by ';' or newlines, '#' starts a comment. Every rank must be in exactly one
// site; no site may be empty.
import { crossingSums, type CrossingSums } from '../monitor/crossing.js';
import type { Matrix, PairMatrix } from '../monitor/pairs.js';
import { addon } from '../native/addon.js';

/** Where a job's ranks are: site names and the site index of every world rank. */
export interface SitePlacement {
  sites: string[];
  siteOf: number[];
}

/** A site map not yet applied to a job (its size and host names are needed for that). */
export interface SiteSpec {
  text: string;
  /** needs the ranks' host names to resolve */
  usesHosts: boolean;
}

export class SiteMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteMapError';
  }
}

/**
 * Checks what can be checked before the job is known (syntax, names, overlaps among explicit
 * ranks): the map is tried against a job just large enough for its largest rank.
 */
export function parseSiteSpec(text: string): SiteSpec {
  const usesHosts = /(^|[:,;\s])@/.test(text);
  if (!usesHosts) {
    const largest = Math.max(0, ...[...text.replace(/#.*$/gm, '').matchAll(/\d+/g)].map((m) => Number(m[0])));
    try {
      addon.parseSites(text, largest + 1);
    } catch (e) {
      const msg = (e as Error).message;
      if (!/in no site|out of range/.test(msg)) throw new SiteMapError(msg);
    }
  }
  return { text, usesHosts };
}

/** Applies a map to a job of `size` ranks (hosts[i]: host of rank i, when the map uses hosts). */
export function resolveSiteSpec(spec: SiteSpec, size: number, hosts?: readonly string[]): SitePlacement {
  return parseSiteMap(spec.text, size, hosts);
}

/** The shim's own parser (native/core/sites.cpp), so that monitor and shim read maps alike. */
export function parseSiteMap(text: string, size: number, hosts?: readonly string[]): SitePlacement {
  if (!(size > 0)) throw new SiteMapError('no ranks');
  try {
    const r = addon.parseSites(text, size, hosts ? [...hosts] : undefined);
    return { sites: r.names, siteOf: r.siteOf };
  } catch (e) {
    throw new SiteMapError((e as Error).message);
  }
}

/** A placement in the site-map syntax, ranges compressed: "A:0-3;B:4-7", "A:0,2;B:1,3". */
export function formatSiteMap(p: SitePlacement): string {
  const parts: string[] = [];
  p.sites.forEach((name, s) => {
    const ranks = p.siteOf.flatMap((x, r) => (x === s ? [r] : []));
    if (ranks.length === 0) return;
    const runs: string[] = [];
    for (let i = 0; i < ranks.length;) {
      let j = i;
      while (j + 1 < ranks.length && ranks[j + 1] === ranks[j] + 1) j++;
      runs.push(j > i + 1 ? `${ranks[i]}-${ranks[j]}` : j === i + 1 ? `${ranks[i]},${ranks[j]}` : `${ranks[i]}`);
      i = j + 1;
    }
    parts.push(`${name}:${runs.join(',')}`);
  });
  return parts.join(';');
}

const NAME = /^[A-Za-z0-9_.-]+$/; // site names as native/core/sites.cpp accepts them

/** Throws unless the placement is usable for a job of `size` ranks (what the shim checks too). */
export function validatePlacement(p: SitePlacement, size: number): void {
  if (!p || !Array.isArray(p.sites) || !Array.isArray(p.siteOf))
    throw new SiteMapError('a placement needs sites[] and siteOf[]');
  if (p.sites.length === 0) throw new SiteMapError('a placement needs at least one site');
  for (const n of p.sites)
    if (typeof n !== 'string' || !NAME.test(n)) throw new SiteMapError(`bad site name '${String(n)}'`);
  if (new Set(p.sites).size !== p.sites.length) throw new SiteMapError('a site is named twice');
  if (p.siteOf.length !== size) throw new SiteMapError(`the placement has ${p.siteOf.length} ranks, the job ${size}`);
  p.siteOf.forEach((s, r) => {
    if (!Number.isInteger(s) || s < 0 || s >= p.sites.length)
      throw new SiteMapError(`rank ${r}: site index ${String(s)} out of range`);
  });
}

/** Site name of each rank. */
export function siteNames(p: SitePlacement): string[] {
  return p.siteOf.map((s) => p.sites[s]);
}

/** Same site (by name) for every rank. */
export function samePlacement(a: SitePlacement | null | undefined, b: SitePlacement | null | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.siteOf.length !== b.siteOf.length) return false;
  for (let r = 0; r < a.siteOf.length; r++) if (a.sites[a.siteOf[r]] !== b.sites[b.siteOf[r]]) return false;
  return true;
}

/** Ranks per site name (sites without ranks left out), in the placement's site order. */
export function ranksPerSite(p: SitePlacement): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of p.sites) out.set(name, 0);
  for (const s of p.siteOf) out.set(p.sites[s], (out.get(p.sites[s]) ?? 0) + 1);
  for (const [k, v] of out) if (v === 0) out.delete(k);
  return out;
}

/** Number of sites that hold at least one rank. */
export function sitesSpanned(p: SitePlacement): number {
  return ranksPerSite(p).size;
}

/** Re-expresses `p` over the site list `sites` (adding names it lacks at the end). */
export function onSites(p: SitePlacement, sites: readonly string[]): SitePlacement {
  const list = [...sites];
  for (const n of p.sites) if (!list.includes(n)) list.push(n);
  return { sites: list, siteOf: p.siteOf.map((s) => list.indexOf(p.sites[s])) };
}

/** All ranks on one site (named `site`), over the site list of `like`. */
export function consolidated(like: SitePlacement, site: string): SitePlacement {
  const sites = like.sites.includes(site) ? [...like.sites] : [...like.sites, site];
  const idx = sites.indexOf(site);
  return { sites, siteOf: like.siteOf.map(() => idx) };
}

/** Bytes and messages of a matrix between ranks on different sites. */
export function crossingTraffic(m: PairMatrix | Matrix, p: SitePlacement): CrossingSums {
  const P = m.size;
  if (p.siteOf.length !== P) throw new SiteMapError(`the placement has ${p.siteOf.length} ranks, the matrix ${P}`);
  return crossingSums(m, siteNames(p));
}
