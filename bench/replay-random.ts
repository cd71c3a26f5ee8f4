// Random traces and clusters for the replay's differential check (test/replay/differential.test.ts):
// collectives of every family and size (eager and rendezvous), blocking and non-blocking rings,
// random pairs completed by Waits of any count, tags (channels), unmatched receives and sends,
// one to three sites with per-pair WAN links, ranks sharing nodes, connections on first use.
import type { Cluster, LogGP } from '../src/replay/cluster.js';
import { replay, type ReplayResult } from '../src/replay/engine.js';
import { emitSteps, tunedSteps } from '../src/replay/schedules.js';
import { TraceBuilder, type Trace } from '../src/replay/trace.js';

/** A seeded generator (a linear congruential one: the same cases on every host). */
export class Rng {
  constructor(private seed: number) {}
  next(): number {
    this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
    return this.seed / 2147483648;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

const SIZES = [0, 8, 100, 4096, 60000, 70000, 1 << 20];
const COLLS = [1, 2, 3, 5, 7, 9, 10, 12, 13, 14, 16];

/**
 * `unmatchedEnd`: the trace ends with a send that never goes (a rendezvous without its receive: a
 * window cut before it); between ranks of two nodes with connections on first use, its connection
 * is never made, so the replay stays in time order to its end.
 */
export function randomTrace(g: Rng, unmatchedEnd = false): Trace {
  const P = 2 + (g.int(8) ? g.int(12) : g.int(40));
  const b = new TraceBuilder(P);
  const members = Array.from({ length: P }, (_, i) => i);
  const rounds = 1 + g.int(6);
  for (let it = 0; it < rounds; it++) {
    const mode = g.int(5);
    const m = SIZES[g.int(SIZES.length)];
    if (mode === 0) {
      const coll = COLLS[g.int(COLLS.length)];
      const root = g.int(P);
      for (let r = 0; r < P; r++) {
        b.compute(r, g.int(3) * 1000 + g.int(100));
        emitSteps(b, r, members, tunedSteps(coll, P, r, root, m), 1);
      }
    } else if (mode === 1) {
      // a ring, blocking (even ranks send first) or non-blocking
      const nb = g.int(2);
      for (let r = 0; r < P; r++) {
        b.compute(r, g.int(50000));
        if (nb)
          b.irecv(r, (r - 1 + P) % P, m)
            .isend(r, (r + 1) % P, m)
            .wait(r);
        else if (r % 2 === 0) b.send(r, (r + 1) % P, m).recv(r, (r - 1 + P) % P, m);
        else b.recv(r, (r - 1 + P) % P, m).send(r, (r + 1) % P, m);
      }
    } else if (mode === 2) {
      // random pairs on random tags, completed by Waits of the oldest or newest requests
      for (let k = 0; k < P; k++) {
        const s = g.int(P),
          d = (s + 1 + g.int(P - 1)) % P;
        const sz = SIZES[g.int(SIZES.length)],
          tag = 2 + g.int(3);
        b.isend(s, d, sz, tag).irecv(d, s, sz, tag);
        if (g.int(2)) b.wait(s, 1 + g.int(2));
        if (g.int(2)) b.wait(d, -1 - g.int(2));
      }
      for (let r = 0; r < P; r++) b.wait(r);
    } else if (mode === 3) {
      // blocking pairs in one direction, the receiver late or early
      const s = g.int(P),
        d = (s + 1 + g.int(P - 1)) % P;
      b.compute(g.int(2) ? s : d, g.int(200000));
      b.send(s, d, m, 5).recv(d, s, m, 5);
    } else {
      // unmatched receives and sends sometimes
      const r = g.int(P);
      if (g.int(3) === 0) b.recv(r, (r + 1) % P, 10, 7);
      if (g.int(4) === 0) b.isend(r, (r + 1) % P, SIZES[g.int(SIZES.length)], 8);
      b.compute(r, g.int(100000));
    }
  }
  for (let r = 0; r < P; r++) b.wait(r);
  if (unmatchedEnd) b.isend(0, 1, 2 ** 31, 9);
  return b.finish();
}

export function randomCluster(g: Rng, P: number): Cluster {
  const S = 1 + g.int(3);
  const siteOf = Array.from({ length: P }, () => g.int(S));
  const perNode = 1 + g.int(3);
  const nodeOf = g.int(2) ? Array.from({ length: P }, (_, r) => Math.floor(r / perNode)) : undefined;
  const lg = (): LogGP => ({ o: g.int(3000), g: g.int(2000), L: g.int(20000), G: g.next() * 2 });
  const link = () => ({ L: g.int(5e6), G: g.next() * 20 });
  const wanLinks = g.int(3) ? undefined : Array.from({ length: S }, () => Array.from({ length: S }, link));
  return {
    siteOf,
    nodeOf,
    intraNode: lg(),
    intraSite: lg(),
    wan: link(),
    wanLinks,
    eagerLimit: [undefined, 0, 4096, 1 << 30][g.int(4)],
    connectRtts: [undefined, 0, 1, 2][g.int(4)],
  };
}

/**
 * `c` with latencies of 0 (and, by `variant`'s bits, overheads and per-byte times of 0 too): many
 * messages arrive when they are sent, so ranks woken at a tie's time can send at it too.
 */
export function withoutLatencies(c: Cluster, variant: number): Cluster {
  const lg = (x: LogGP): LogGP => ({ o: variant & 1 ? 0 : x.o, g: 0, L: 0, G: variant & 2 ? 0 : x.G });
  const link = (w: { G: number }) => ({ L: 0, G: variant & 2 ? 0 : w.G });
  return {
    ...c,
    intraNode: lg(c.intraNode),
    intraSite: lg(c.intraSite),
    wan: link(c.wan),
    wanLinks: c.wanLinks?.map((row) => row.map((w) => w && link(w))),
  };
}

/** FNV-1a over the bits of a replay's results: equal digests, bit-for-bit equal results. */
export class Digest {
  private h = 0x811c9dc5;
  private readonly f = new Float64Array(1);
  private readonly u = new Uint32Array(this.f.buffer);
  add(x: number): void {
    this.f[0] = x;
    for (const w of this.u) {
      this.h = Math.imul(this.h ^ (w & 0xffff), 16777619) >>> 0;
      this.h = Math.imul(this.h ^ (w >>> 16), 16777619) >>> 0;
    }
  }
  addResult(r: ReplayResult): void {
    this.add(r.wallNs);
    this.add(r.events);
    for (const a of [r.endNs, r.computeNs, r.localNs, r.wanNs]) for (const x of a) this.add(x);
    this.add(r.stalled.length);
    for (const s of r.stalled) this.add(s);
  }
  get value(): string {
    return this.h.toString(16).padStart(8, '0');
  }
}

/**
 * The digest of `cases` random traces and clusters from `seed`, each replayed by `run` (with
 * `zeroLatency`, on the clusters withoutLatencies makes of them).
 */
export function digestOf(
  seed: number,
  cases: number,
  run: typeof replay = replay,
  unmatchedEnd = false,
  zeroLatency = false,
): string {
  const g = new Rng(seed);
  const d = new Digest();
  for (let k = 0; k < cases; k++) {
    const t = randomTrace(g, unmatchedEnd);
    const c = randomCluster(g, t.size);
    d.addResult(run(t, zeroLatency ? withoutLatencies(c, k) : c));
  }
  return d.value;
}
