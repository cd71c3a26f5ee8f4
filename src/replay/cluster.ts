// The cluster a trace is replayed on: LogGP parameters per link class (two ranks on one node, on
// two nodes of one site, on two sites) and the placement (site and node of each rank).

/** LogGP parameters of a link class, in ns (G: ns per byte). */
export interface LogGP {
  /** CPU overhead of sending or receiving one message */
  o: number;
  /** gap: least time between two message injections of one rank */
  g: number;
  /** latency */
  L: number;
  /** time per byte (1e9 / bytes per second) */
  G: number;
}

/** A directed WAN link between two sites: latency (half the RTT) and ns per byte. */
export interface WanLink {
  L: number;
  G: number;
}

export interface Cluster {
  /** site of each rank */
  siteOf: ArrayLike<number>;
  /** node of each rank (ranks on one node talk through shared memory); absent: one rank per node */
  nodeOf?: ArrayLike<number>;
  intraNode: LogGP;
  intraSite: LogGP;
  /** every directed site pair's link, unless `wanLinks` names it */
  wan: WanLink;
  /** per directed pair of sites: wanLinks[a][b] */
  wanLinks?: (WanLink | undefined)[][];
  /** messages larger than this go by rendezvous (a round trip before the data); Open MPI's TCP default 64 KiB */
  eagerLimit?: number;
  /**
   * round trips the first message between two ranks on different nodes waits for its connection
   * (Open MPI's TCP BTL connects on first use); default 1, 0 for networks connected up front
   */
  connectRtts?: number;
}

/** Open MPI's btl/tcp eager limit (btl_tcp_eager_limit). */
export const DEFAULT_EAGER_LIMIT = 65536;

/** Bytes per second -> G (ns per byte). */
export function perByte(bytesPerSecond: number): number {
  return 1e9 / bytesPerSecond;
}

/** A WAN link from its round-trip time (ms) and bandwidth (Mbit/s). */
export function wanLink(rttMs: number, mbps: number): WanLink {
  return { L: (rttMs * 1e6) / 2, G: perByte((mbps * 1e6) / 8) };
}

/**
 * Local defaults: measured order of magnitude for Open MPI over shared memory and TCP on one host's
 * network (replace them with `calibrate` results for a real cluster).
 */
export const DEFAULT_INTRA_NODE: LogGP = { o: 300, g: 300, L: 500, G: perByte(5e9) };
export const DEFAULT_INTRA_SITE: LogGP = { o: 2000, g: 1000, L: 15000, G: perByte(1.25e9) };

/** A cluster with the given placement, local defaults and one WAN link type. */
export function makeCluster(siteOf: ArrayLike<number>, wan: WanLink, opts: Partial<Cluster> = {}): Cluster {
  return { intraNode: DEFAULT_INTRA_NODE, intraSite: DEFAULT_INTRA_SITE, ...opts, siteOf, wan };
}

/** Throws a clear error for a cluster that does not fit a trace of `size` ranks. */
export function checkCluster(c: Cluster, size: number): void {
  if (c.siteOf.length < size) throw new RangeError(`cluster: siteOf has ${c.siteOf.length} entries for ${size} ranks`);
  if (c.nodeOf && c.nodeOf.length < size)
    throw new RangeError(`cluster: nodeOf has ${c.nodeOf.length} entries for ${size} ranks`);
  for (let r = 0; r < size; r++)
    if (!Number.isInteger(c.siteOf[r]) || c.siteOf[r] < 0) throw new RangeError(`cluster: bad site of rank ${r}`);
  const finite = (p: object, what: string): void => {
    for (const [k, v] of Object.entries(p))
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`cluster: ${what}.${k} is ${v}`);
  };
  finite(c.intraNode, 'intraNode');
  finite(c.intraSite, 'intraSite');
  finite(c.wan, 'wan');
}
