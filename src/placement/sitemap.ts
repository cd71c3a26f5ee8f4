// Placements (world rank -> site) and the static site-map syntax shared with the shim's
// SITEMPI_SITES / SITEMPI_SITES_FILE (native/core/sites.cpp is the reference implementation):
//
//   "A:0-3;B:4-7"            ranges
//   "A:0,2,4,6;B:1,3,5,7"    lists
//   "A:@node-a*;B:@node-b*"  host-name globs (*, ?, [...]) matched against the ranks' Hello.host
//
// Sites are separated by ';' or newlines, '#' starts a comment. Every rank must be in exactly one
// site; no site may be empty.
import type { Matrix } from '../monitor/job.js';

/** Where a job's ranks are: site names and the site index of every world rank. */
export interface SitePlacement {
  sites: string[];
  siteOf: number[];
}

interface SiteItem {
  kind: 'ranks' | 'host';
  lo: number;
  hi: number;
  pattern: string;
}

/** A parsed site map, before it is applied to a job of a given size. */
export interface SiteSpec {
  text: string;
  names: string[];
  items: SiteItem[][];
  /** needs the ranks' host names to resolve */
  usesHosts: boolean;
}

export class SiteMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteMapError';
  }
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Parses a site map (syntax errors only; ranges are checked by resolveSiteSpec). */
export function parseSiteSpec(text: string): SiteSpec {
  const entries: string[] = [];
  let cur = '';
  let comment = false;
  for (const c of text) {
    if (c === '\n' || c === '\r') { comment = false; entries.push(cur); cur = ''; continue; }
    if (comment) continue;
    if (c === '#') { comment = true; continue; }
    if (c === ';') { entries.push(cur); cur = ''; continue; }
    cur += c;
  }
  entries.push(cur);
  const out: SiteSpec = { text, names: [], items: [], usesHosts: false };
  for (const raw of entries) {
    const e = raw.trim();
    if (!e) continue;
    const colon = e.indexOf(':');
    if (colon < 0) throw new SiteMapError(`'${e}' is not of the form NAME:RANKS`);
    const name = e.slice(0, colon).trim();
    if (!NAME.test(name)) throw new SiteMapError(`bad site name '${name}' (letters, digits, _ - . only)`);
    if (out.names.includes(name)) throw new SiteMapError(`site '${name}' is named twice`);
    const items: SiteItem[] = [];
    const toks = e.slice(colon + 1).split(',');
    toks.forEach((t, i) => {
      const tok = t.trim();
      if (!tok) {
        if (i === toks.length - 1) return;
        throw new SiteMapError(`empty entry in site '${name}'`);
      }
      if (tok.startsWith('@')) {
        const pattern = tok.slice(1).trim();
        if (!pattern) throw new SiteMapError(`empty host pattern in site '${name}'`);
        items.push({ kind: 'host', lo: 0, hi: 0, pattern });
        out.usesHosts = true;
        return;
      }
      const m = /^(\d{1,9})(?:\s*-\s*(\d{1,9}))?$/.exec(tok);
      if (!m) throw new SiteMapError(`unknown rank '${tok}' in site '${name}' (expected N, LO-HI or @host-pattern)`);
      const lo = Number(m[1]);
      const hi = m[2] !== undefined ? Number(m[2]) : lo;
      if (hi < lo) throw new SiteMapError(`empty range '${tok}' in site '${name}'`);
      items.push({ kind: 'ranks', lo, hi, pattern: '' });
    });
    if (items.length === 0) throw new SiteMapError(`site '${name}' is empty`);
    out.names.push(name);
    out.items.push(items);
  }
  if (out.names.length === 0) throw new SiteMapError('no sites');
  return out;
}

/** fnmatch(3)-style glob (*, ?, [...], [!...]) as a RegExp. */
export function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      let body = pattern.slice(i + 1, end);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Applies a parsed map to a job of `size` ranks (hosts[i]: host of rank i, when the map uses hosts). */
export function resolveSiteSpec(spec: SiteSpec, size: number, hosts?: readonly string[]): SitePlacement {
  if (!(size > 0)) throw new SiteMapError('no ranks');
  if (spec.usesHosts && (!hosts || hosts.length !== size || hosts.some((h) => !h))) {
    throw new SiteMapError('host names of the ranks are unknown');
  }
  const owner = new Array<number>(size).fill(-1);
  spec.names.forEach((name, s) => {
    let members = 0;
    const claim = (r: number) => {
      const o = owner[r];
      if (o === s) return;
      if (o >= 0) throw new SiteMapError(`rank ${r} is in both site '${spec.names[o]}' and site '${name}'`);
      owner[r] = s;
      members++;
    };
    for (const it of spec.items[s]) {
      if (it.kind === 'ranks') {
        if (it.hi >= size) throw new SiteMapError(`rank ${it.hi} in site '${name}' is out of range (the job has ${size} ranks)`);
        for (let r = it.lo; r <= it.hi; r++) claim(r);
      } else {
        const re = globRegExp(it.pattern);
        for (let r = 0; r < size; r++) if (re.test(hosts![r])) claim(r);
      }
    }
    if (members === 0) throw new SiteMapError(`site '${name}' is empty${spec.usesHosts ? " (no rank's host matches)" : ''}`);
  });
  const missing = owner.flatMap((o, r) => (o < 0 ? [r] : []));
  if (missing.length) {
    const list = missing.slice(0, 8).join(', ') + (missing.length > 8 ? `, ... (${missing.length} in all)` : '');
    throw new SiteMapError(`${missing.length === 1 ? 'rank' : 'ranks'} ${list} ${missing.length === 1 ? 'is' : 'are'} in no site`);
  }
  return { sites: [...spec.names], siteOf: owner };
}

/** parseSiteSpec + resolveSiteSpec. */
export function parseSiteMap(text: string, size: number, hosts?: readonly string[]): SitePlacement {
  return resolveSiteSpec(parseSiteSpec(text), size, hosts);
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

/** Throws unless the placement is usable for a job of `size` ranks (what the shim checks too). */
export function validatePlacement(p: SitePlacement, size: number): void {
  if (!p || !Array.isArray(p.sites) || !Array.isArray(p.siteOf)) throw new SiteMapError('a placement needs sites[] and siteOf[]');
  if (p.sites.length === 0) throw new SiteMapError('a placement needs at least one site');
  for (const n of p.sites) if (typeof n !== 'string' || !NAME.test(n)) throw new SiteMapError(`bad site name '${String(n)}'`);
  if (new Set(p.sites).size !== p.sites.length) throw new SiteMapError('a site is named twice');
  if (p.siteOf.length !== size) throw new SiteMapError(`the placement has ${p.siteOf.length} ranks, the job ${size}`);
  p.siteOf.forEach((s, r) => {
    if (!Number.isInteger(s) || s < 0 || s >= p.sites.length) throw new SiteMapError(`rank ${r}: site index ${String(s)} out of range`);
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
export function crossingTraffic(m: Matrix, p: SitePlacement): { bytes: number; messages: number; totalBytes: number; totalMessages: number } {
  const P = m.size;
  if (p.siteOf.length !== P) throw new SiteMapError(`the placement has ${p.siteOf.length} ranks, the matrix ${P}`);
  const name = siteNames(p);
  let cb = 0n, cm = 0n, tb = 0n, tm = 0n;
  for (let s = 0; s < P; s++) {
    for (let d = 0; d < P; d++) {
      const i = s * P + d;
      const b = m.bytes.big(i), k = m.messages.big(i);
      if (b === 0n && k === 0n) continue;
      tb += b; tm += k;
      if (name[s] !== name[d]) { cb += b; cm += k; }
    }
  }
  return { bytes: Number(cb), messages: Number(cm), totalBytes: Number(tb), totalMessages: Number(tm) };
}
