// The replay's network: LogGP parameters by link class, a message's class from its ends' placement,
// the WAN links' queues and the connections made so far (./engine.ts uses it).
import { DEFAULT_EAGER_LIMIT, type Cluster } from './cluster.js';
import { Op, type Trace } from './trace.js';

/** Link classes of a message: both ends on one node, on one site, on two sites. */
export const NODE = 0,
  SITE = 1,
  WAN = 2;

/** Pairs of ranks (both ways): a bitmap up to this many ranks, a Set above (bounded memory). */
const BITMAP_MAX_RANKS = 8192;
/** Traces of more ranks are not searched for their pairs: their order-sensitive transfers are not counted. */
const PAIRS_MAX_RANKS = 1024;

/** The ordered pairs (s * P + d) that messages go between, sorted; per trace, found once. */
const pairsOfTrace = new WeakMap<Trace, Int32Array | null>();

function pairsOf(trace: Trace): Int32Array | null {
  let p = pairsOfTrace.get(trace);
  if (p !== undefined) return p;
  const P = trace.size;
  p = null;
  if (P <= PAIRS_MAX_RANKS) {
    const { first, kind, peer } = trace;
    const seen = new Uint8Array(P * P);
    let n = 0;
    for (let r = 0; r < P; r++)
      for (let i = first[r]; i < first[r + 1]; i++)
        if ((kind[i] === Op.Send || kind[i] === Op.Isend) && !seen[r * P + peer[i]]) {
          seen[r * P + peer[i]] = 1;
          n++;
        }
    p = new Int32Array(n);
    for (let k = 0, j = 0; k < P * P; k++) if (seen[k]) p[j++] = k;
  }
  pairsOfTrace.set(trace, p);
  return p;
}

export class Links {
  readonly eager: number;
  /** per class: the ends' overhead, gap, per-byte injection time; latency (WAN: per link, wanL) */
  readonly o = new Float64Array(3);
  readonly g = new Float64Array(3);
  readonly G = new Float64Array(3);
  readonly L = new Float64Array(2);
  private readonly siteOf: Int32Array;
  private readonly nodeOf: Int32Array;
  private readonly S: number;
  /** sites the placement uses (up to the highest site number) */
  readonly sites: number;
  private readonly wanL: Float64Array;
  private readonly wanG: Float64Array;
  private readonly linkFree: Float64Array;
  private readonly connectRtts: number;
  private readonly pairBits: Uint8Array;
  private readonly pairSet = new Set<number>();
  private readonly P: number;

  /**
   * Transfers still to come whose result depends on the order ranks run in: the first message of
   * each pair of ranks on different nodes (it opens their connection). At 0 every later result
   * follows from the data alone, in any order (./loop.ts uses that); WAN links take their
   * messages in the order of the model's tie rule, whatever order ranks run in (./loop.ts).
   */
  sensitive = Infinity;

  constructor(trace: Trace, cluster: Cluster) {
    const P = (this.P = trace.size);
    this.eager = cluster.eagerLimit ?? DEFAULT_EAGER_LIMIT;
    const siteOf = (this.siteOf = Int32Array.from({ length: P }, (_, r) => cluster.siteOf[r]));
    this.nodeOf = Int32Array.from({ length: P }, (_, r) => (cluster.nodeOf ? cluster.nodeOf[r] : -1 - r));
    let S = 0;
    for (let r = 0; r < P; r++) S = Math.max(S, siteOf[r] + 1);
    this.S = S;
    this.sites = S;
    this.wanL = new Float64Array(S * S);
    this.wanG = new Float64Array(S * S);
    for (let a = 0; a < S; a++)
      for (let b = 0; b < S; b++) {
        const w = cluster.wanLinks?.[a]?.[b] ?? cluster.wan;
        this.wanL[a * S + b] = w.L;
        this.wanG[a * S + b] = w.G;
      }
    this.linkFree = new Float64Array(S * S);
    this.connectRtts = cluster.connectRtts ?? 1;
    this.pairBits = new Uint8Array(P <= BITMAP_MAX_RANKS ? (P * P + 7) >> 3 : 0);
    // a WAN message's ends use the intra-site class
    const loc = [cluster.intraNode, cluster.intraSite, cluster.intraSite];
    for (let c = 0; c < 3; c++) {
      this.o[c] = loc[c].o;
      this.g[c] = loc[c].g;
      this.G[c] = loc[c].G;
    }
    this.L[NODE] = cluster.intraNode.L;
    this.L[SITE] = cluster.intraSite.L;
    const keys = pairsOf(trace);
    if (!this.connectRtts) this.sensitive = 0;
    else if (keys) {
      let n = 0;
      for (let j = 0; j < keys.length; j++) {
        const s = Math.floor(keys[j] / P),
          d = keys[j] % P;
        // a pair is connected once, for both directions: counted at its first direction
        if (this.nodeOf[s] !== this.nodeOf[d] && (s < d || !hasKey(keys, d * P + s))) n++;
      }
      this.sensitive = n;
    }
  }

  /** The class of a message between ranks s and d (two array reads: cheaper than a stored class per operation). */
  cls(s: number, d: number): number {
    return this.siteOf[s] !== this.siteOf[d] ? WAN : this.nodeOf[s] === this.nodeOf[d] ? NODE : SITE;
  }

  latency(s: number, d: number, c: number): number {
    return c === WAN ? this.wanL[this.siteOf[s] * this.S + this.siteOf[d]] : this.L[c];
  }

  /** When the sender was done with the last transfer's bytes. */
  senderDone = 0;

  /** How long the first message between s and d (class c) waits for their connection: 0 once made. */
  connectDelay(s: number, d: number, c: number): number {
    if (!this.connectRtts || this.nodeOf[s] === this.nodeOf[d] || !this.connect(s, d)) return 0;
    this.sensitive--;
    return this.connectRtts * 2 * this.latency(s, d, c);
  }

  /** Moves `b` bytes from s to d inside a site (class c) from `start`: returns their arrival (and sets senderDone). */
  transfer(s: number, d: number, c: number, b: number, start: number): number {
    const end = start + this.connectDelay(s, d, c) + b * this.G[c];
    this.senderDone = end;
    return end + this.L[c];
  }

  /** The WAN link of a message from s to d (different sites). */
  link(s: number, d: number): number {
    return this.siteOf[s] * this.S + this.siteOf[d];
  }

  /** Carries `b` bytes on WAN link l from `start`, after what it carries already: returns their arrival (and sets senderDone). */
  carry(l: number, b: number, start: number, rendezvous: boolean): number {
    const ls = Math.max(start, this.linkFree[l]);
    const le = ls + b * this.wanG[l];
    this.linkFree[l] = le;
    // the bytes cross no faster than the sender's host puts them out nor the link carries them
    const injected = start + b * this.G[SITE];
    this.senderDone = rendezvous ? Math.max(le, injected) : injected;
    return Math.max(le, injected) + this.wanL[l];
  }

  /** True when a message from s to d waits for no connection: none asked, one node, or made already. */
  settled(s: number, d: number): boolean {
    if (!this.connectRtts || this.nodeOf[s] === this.nodeOf[d]) return true;
    const k = s * this.P + d;
    return this.pairBits.length ? (this.pairBits[k >> 3] & (1 << (k & 7))) !== 0 : this.pairSet.has(k);
  }

  /** Marks the pair connected; true when it was not yet. */
  private connect(s: number, d: number): boolean {
    const P = this.P;
    if (this.pairBits.length) {
      const k = s * P + d;
      if (this.pairBits[k >> 3] & (1 << (k & 7))) return false;
      const j = d * P + s;
      this.pairBits[k >> 3] |= 1 << (k & 7);
      this.pairBits[j >> 3] |= 1 << (j & 7);
      return true;
    }
    if (this.pairSet.has(s * P + d)) return false;
    this.pairSet.add(s * P + d);
    this.pairSet.add(d * P + s);
    return true;
  }
}

/** Whether sorted `keys` holds k. */
function hasKey(keys: Int32Array, k: number): boolean {
  let lo = 0,
    hi = keys.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (keys[m] < k) lo = m + 1;
    else hi = m;
  }
  return lo < keys.length && keys[lo] === k;
}
