// Lower bounds of docs/architecture.md ("Site-aware collectives") for the collectives of the benchmark:
// bytes that must cross between sites, and the time that takes on links of one-way latency α
// and bandwidth B per direction.
//
// With S sites, P ranks, n_s ranks at site s, r the root's site and m the message size (per rank
// for gather/allgather, per pair for alltoall, per rank's block for reduce_scatter), the payload
// that must cross is
//   Barrier 0; Bcast and Reduce (S−1)m; Allreduce 2(S−1)m; Gather (P−n_r)m;
//   Allgather (S−1)·P·m; Alltoall Σ n_s(P−n_s)m; Reduce_scatter (S−1)·P·m.
// Per directed link s→t, the least payload is
//   Bcast r→t m; Reduce s→r m; Allreduce m/(S−1) each way (exact for S = 2: the leaders swap
//   partial results); Gather s→r n_s·m; Allgather s→t n_s·m; Alltoall s→t n_s·n_t·m;
//   Reduce_scatter s→t n_t·m (site s's contribution to the blocks of t's ranks, reduced in s);
// and the time bound is α + (most loaded link's payload)/B (Barrier: α). Links of different
// pairs and directions run in parallel, so the busiest one bounds the time.
//
// Headers. The payload bound counts application bytes; wanemu counts whole IP packets. The
// least that also crosses is one TCP segment header (IP 20 + TCP 20 + timestamp option 12 = 52
// bytes) per MSS of payload (MSS = MTU − 52), and an MPI message header per message (Open MPI
// ob1's match header plus the TCP BTL header, about 40 bytes; we count MPI_HDR_BYTES) for the
// least number of messages the site-aware algorithms send (per directed link: one message for
// Bcast/Reduce/Allreduce/Gather/Allgather/Alltoall/Reduce_scatter at S = 2). ACKs in the reverse direction
// (about one 52-byte packet per two segments) are not in the bound.

export type CollName =
  'barrier' | 'bcast' | 'reduce' | 'allreduce' | 'gather' | 'allgather' | 'alltoall' | 'reduce_scatter';
export const COLLS: CollName[] = [
  'barrier',
  'bcast',
  'reduce',
  'allreduce',
  'gather',
  'allgather',
  'alltoall',
  'reduce_scatter',
];

export const TCPIP_HDR_BYTES = 52;
export const MPI_HDR_BYTES = 40;

export interface Net {
  /** One-way latency between sites, seconds. */
  alphaS: number;
  /** Bandwidth per direction, bits per second. */
  bandwidthBps: number;
  /** MTU of the data network (the TCP MSS is MTU − 52). */
  mtu: number;
}

export interface Bound {
  /** Least payload crossing sites, both directions together. */
  bytes: number;
  /** The same plus the least TCP/IP and MPI headers. */
  bytesWithHeaders: number;
  /** Least payload on the busiest directed link. */
  maxLinkBytes: number;
  /** Least time, seconds: α + maxLinkBytes·8/B (Barrier: α). */
  timeS: number;
}

/** Payload per directed link (from site → to site) that the site-aware form must move. */
export function linkPayloads(coll: CollName, m: number, rankSites: string[], root = 0): Map<string, number> {
  const sites = [...new Set(rankSites)];
  const S = sites.length;
  const n = new Map<string, number>(sites.map((s) => [s, rankSites.filter((x) => x === s).length]));
  const r = rankSites[root] as string;
  const out = new Map<string, number>();
  if (S < 2) return out;
  for (const s of sites) {
    for (const t of sites) {
      if (s === t) continue;
      let b = 0;
      const ns = n.get(s) as number;
      const nt = n.get(t) as number;
      switch (coll) {
        case 'barrier':
          b = 0;
          break;
        case 'bcast':
          b = s === r ? m : 0;
          break;
        case 'reduce':
          b = t === r ? m : 0;
          break;
        case 'allreduce':
          b = m / (S - 1);
          break;
        case 'gather':
          b = t === r ? ns * m : 0;
          break;
        case 'allgather':
          b = ns * m;
          break;
        case 'alltoall':
          b = ns * nt * m;
          break;
        case 'reduce_scatter':
          b = nt * m;
          break;
      }
      out.set(`${s}>${t}`, b);
    }
  }
  return out;
}

export function lowerBound(coll: CollName, m: number, rankSites: string[], net: Net, root = 0): Bound {
  const links = linkPayloads(coll, m, rankSites, root);
  const mss = net.mtu - TCPIP_HDR_BYTES;
  let bytes = 0;
  let headers = 0;
  let maxLink = 0;
  for (const b of links.values()) {
    bytes += b;
    maxLink = Math.max(maxLink, b);
    if (b > 0) headers += Math.ceil(b / mss) * TCPIP_HDR_BYTES + MPI_HDR_BYTES;
  }
  if (coll === 'barrier' && links.size > 0) {
    // A barrier needs one (empty) message per directed link: headers only.
    headers = links.size * (TCPIP_HDR_BYTES + MPI_HDR_BYTES);
  }
  const timeS = links.size === 0 ? 0 : net.alphaS + (maxLink * 8) / net.bandwidthBps;
  return { bytes, bytesWithHeaders: bytes + headers, maxLinkBytes: maxLink, timeS };
}
