// Where a cluster model comes from: a description file (JSON, docs/manager.md), the testbed that
// is up, or the command line (the `sitempi testbed up` syntax, parsed by the testbed's own parsers).
import fs from 'node:fs';
import { normalizeSpec } from '../testbed/spec.js';
import type { TestbedState } from '../testbed/state.js';
import { parseBandwidth, parseDurationMs, parseLinkSpec, parseSites } from '../testbed/units.js';
import { Cluster, ClusterError, type ClusterLink, type ClusterNode } from './cluster.js';

/** Description files are small; anything larger is not one. */
const MAX_CLUSTER_FILE_BYTES = 4 * 1024 * 1024;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(o: Json, allowed: string[], where: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new ClusterError(`${where}: unknown key "${k}" (known: ${allowed.join(', ')})`);
}

function count(v: unknown, where: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new ClusterError(`${where} must be an integer ≥ ${min}, not ${JSON.stringify(v)}`);
  return v;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string' || !v) throw new ClusterError(`${where} must be a non-empty string`);
  return v;
}

function wrap<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new ClusterError(`${where}: ${(e as Error).message}`);
  }
}

/** A cluster from the parsed JSON of a description file (format: docs/manager.md). */
export function clusterFromJson(doc: unknown): Cluster {
  if (!isObject(doc)) throw new ClusterError('a cluster description is a JSON object');
  checkKeys(doc, ['sites', 'nodes', 'links', 'defaultLink'], 'cluster');
  if (!Array.isArray(doc.sites)) throw new ClusterError('cluster: "sites" must be an array');
  const sites: string[] = [];
  const nodes: ClusterNode[] = [];
  doc.sites.forEach((s, i) => {
    if (!isObject(s)) throw new ClusterError(`sites[${i}] must be an object`);
    checkKeys(s, ['name', 'nodes', 'slots', 'host'], `sites[${i}]`);
    const name = text(s.name, `sites[${i}].name`);
    sites.push(name);
    // A site may list a node count: nodes <site>0..<site>N-1 with the site's slots and host.
    if (s.nodes !== undefined) {
      const n = count(s.nodes, `site ${name}: nodes`, 0);
      const slots = count(s.slots ?? 1, `site ${name}: slots`, 1);
      for (let k = 0; k < n; k++) {
        const node = `${name.toLowerCase()}${k}`;
        nodes.push({
          name: node,
          site: name,
          slots,
          host: s.host === undefined ? node : text(s.host, `site ${name}: host`),
        });
      }
    } else if (s.slots !== undefined || s.host !== undefined)
      throw new ClusterError(`site ${name}: "slots" and "host" go with "nodes" (a count)`);
  });
  if (doc.nodes !== undefined) {
    if (!Array.isArray(doc.nodes)) throw new ClusterError('cluster: "nodes" must be an array');
    doc.nodes.forEach((n, i) => {
      if (!isObject(n)) throw new ClusterError(`nodes[${i}] must be an object`);
      checkKeys(n, ['name', 'site', 'slots', 'host'], `nodes[${i}]`);
      const name = text(n.name, `nodes[${i}].name`);
      nodes.push({
        name,
        site: text(n.site, `node ${name}: site`),
        slots: count(n.slots ?? 1, `node ${name}: slots`, 1),
        host: n.host === undefined ? name : text(n.host, `node ${name}: host`),
      });
    });
  }
  const links: ClusterLink[] = [];
  const linkOf = (o: unknown, where: string) => {
    if (!isObject(o)) throw new ClusterError(`${where} must be an object`);
    const lat = o.latency !== undefined ? o.latency : o.rtt !== undefined ? undefined : '5ms';
    const latencyMs = wrap(where, () =>
      lat !== undefined ? parseDurationMs(lat as string) : parseDurationMs(o.rtt as string) / 2,
    );
    const bandwidthBps = wrap(where, () => parseBandwidth((o.bandwidth ?? '1gbit') as string));
    return { latencyMs, bandwidthBps };
  };
  if (doc.links !== undefined) {
    if (!Array.isArray(doc.links)) throw new ClusterError('cluster: "links" must be an array');
    doc.links.forEach((l, i) => {
      if (!isObject(l)) throw new ClusterError(`links[${i}] must be an object`);
      checkKeys(l, ['between', 'latency', 'rtt', 'bandwidth'], `links[${i}]`);
      const b = l.between;
      if (!Array.isArray(b) || b.length !== 2 || typeof b[0] !== 'string' || typeof b[1] !== 'string')
        throw new ClusterError(`links[${i}].between must be two site names`);
      const p = linkOf(l, `links[${i}]`);
      links.push({ from: b[0], to: b[1], ...p }, { from: b[1], to: b[0], ...p });
    });
  }
  if (doc.defaultLink !== undefined) {
    if (isObject(doc.defaultLink)) checkKeys(doc.defaultLink, ['latency', 'rtt', 'bandwidth'], 'defaultLink');
    const p = linkOf(doc.defaultLink, 'defaultLink');
    for (const a of sites)
      for (const b of sites)
        if (a !== b && !links.some((l) => l.from === a && l.to === b)) links.push({ from: a, to: b, ...p });
  }
  return new Cluster({ sites, nodes, links });
}

/** A cluster from a description file; every problem is a ClusterError naming the file. */
export function loadClusterFile(file: string): Cluster {
  let raw: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_CLUSTER_FILE_BYTES) throw new Error(`${st.size} bytes, at most ${MAX_CLUSTER_FILE_BYTES}`);
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ClusterError(`cluster file ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (e) {
    throw new ClusterError(`cluster file ${file}: not JSON (${(e as Error).message})`);
  }
  try {
    return clusterFromJson(doc);
  } catch (e) {
    throw new ClusterError(`cluster file ${file}: ${(e as Error).message}`);
  }
}

/** The cluster of a testbed that is up: its sites, nodes (where they are now) and links. */
export function clusterFromTestbed(st: TestbedState): Cluster {
  return new Cluster({
    sites: st.sites,
    nodes: st.nodes.map((n) => ({ name: n.name, site: n.site, host: n.host, slots: n.slots })),
    links: st.links.map((l) => ({ from: l.from, to: l.to, latencyMs: l.latencyMs, bandwidthBps: l.bandwidthBps })),
  });
}

export interface ClusterArgs {
  /** "A=4x2,B=2x2" (nodes x slots), as `sitempi testbed up --sites`. */
  sites: string;
  rtt?: string;
  bandwidth?: string;
  /** "A-B:rtt=20ms,bw=100mbit", as `sitempi testbed up --link`. */
  links?: string[];
  /** Host name of every node (default localhost: a cluster on this machine). */
  host?: string;
}

/** A cluster from command-line options, read by the testbed's parsers. */
export function clusterFromArgs(a: ClusterArgs): Cluster {
  const ns = wrap('--sites/--rtt/--bandwidth/--link', () =>
    normalizeSpec({
      sites: parseSites(a.sites),
      rttMs: a.rtt !== undefined ? parseDurationMs(a.rtt) : undefined,
      bandwidth: a.bandwidth !== undefined ? parseBandwidth(a.bandwidth) : undefined,
      links: a.links?.map(parseLinkSpec),
    }),
  );
  const nodes: ClusterNode[] = [];
  for (const s of ns.sites)
    for (let k = 0; k < s.nodes; k++)
      nodes.push({ name: `${s.name.toLowerCase()}${k}`, site: s.name, slots: s.slots, host: a.host ?? 'localhost' });
  return new Cluster({
    sites: ns.sites.map((s) => s.name),
    nodes,
    links: ns.links.map((l) => ({ from: l.from, to: l.to, latencyMs: l.latencyMs, bandwidthBps: l.bandwidthBps })),
  });
}
