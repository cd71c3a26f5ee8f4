// Relocation tests: a real Monitor behind a transparent Unix-socket tap (what each rank sends is
// kept, byte for byte, to be decoded afterwards), placement pushes, and the checks on the shim's
// records: the switch markers (Role.Placement, native/shim/coll/agreement.h) of every communicator.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Monitor } from '../../src/monitor/index.js';
import { PlacementMark, Role, ROLE_SHIFT, SITE_AWARE_COLLS } from '../../src/generated/facts.js';
import { FUNCTIONS } from '../../src/generated/functions.js';
import { FrameDecoder } from '../../src/wire/frames.js';
import { decodeEnvelope, type Placement } from '../../src/wire/messages.js';

/** The covered collectives (site-aware capable): their calls count in the agreement. */
export const COVERED: ReadonlySet<string> = new Set(SITE_AWARE_COLLS);
const fnName = (id: number): string => (FUNCTIONS[id]?.name ?? `fn${id}`).replace(/^MPI_/, '');

/** A Monitor listening on a private socket, reached by the ranks through a tap at `address`. */
export class TappedMonitor {
  readonly monitor: Monitor;
  readonly address: string;
  /** every connection's bytes from the rank, in order of connection */
  readonly streams: Buffer[][] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private constructor(monitor: Monitor, server: net.Server, address: string) {
    this.monitor = monitor;
    this.server = server;
    this.address = address;
  }

  static async start(dir: string, name = 'mon'): Promise<TappedMonitor> {
    const inner = path.join(dir, `${name}-inner.sock`),
      outer = path.join(dir, `${name}.sock`);
    const monitor = new Monitor({ lingerMs: 60_000, updateIntervalMs: 60_000 });
    await monitor.listen(`unix:${inner}`);
    let self: TappedMonitor | null = null;
    const server = net.createServer((down) => {
      const chunks: Buffer[] = [];
      self!.streams.push(chunks);
      const up = net.connect(inner);
      self!.sockets.add(down);
      self!.sockets.add(up);
      down.on('data', (d) => {
        chunks.push(d);
        up.write(d);
      });
      up.on('data', (d) => down.write(d));
      const end = () => {
        down.destroy();
        up.destroy();
      };
      down.on('close', end);
      up.on('close', end);
      down.on('error', () => {});
      up.on('error', () => {});
    });
    try {
      fs.unlinkSync(outer);
    } catch {
      /* absent */
    }
    await new Promise<void>((res) => server.listen(outer, res));
    self = new TappedMonitor(monitor, server, `unix:${outer}`);
    return self;
  }

  /** The monitor goes away: no more listening, every connection closed. */
  async close(): Promise<void> {
    await new Promise<void>((res) => {
      this.server.close(() => res());
      for (const s of this.sockets) s.destroy();
    });
    await this.monitor.close();
  }

  /** Resolves with the job id once `n` ranks have said Hello. */
  waitForRanks(n: number, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const seen = new Set<number>();
      const t = setTimeout(() => reject(new Error(`only ${seen.size} of ${n} ranks said Hello`)), timeoutMs);
      this.monitor.on('rankHello', (job, rank) => {
        seen.add(rank);
        if (seen.size === n) {
          clearTimeout(t);
          resolve(job.id);
        }
      });
    });
  }
}

export interface Rec {
  fn: string;
  role: number;
  peer: number;
  bytes: number;
  comm: number; // global id (as a string-safe number key: see commKey)
  alg: number;
  crossMsgs: number;
  crossBytes: number;
  epoch: number; // the batch's epoch
}

export interface RankRecords {
  rank: number;
  comms: Map<string, number[]>; // global id -> members (world ranks)
  records: Rec[];
  dropped: number;
}

/** Decodes the streams of one job (several connections per rank after reconnects: concatenated in order). */
export function decodeStreams(streams: Buffer[][]): Map<number, RankRecords> {
  const out = new Map<number, RankRecords>();
  for (const chunks of streams) {
    const dec = new FrameDecoder(64 << 20);
    let frames: Uint8Array[];
    try {
      frames = dec.push(Buffer.concat(chunks));
    } catch {
      continue;
    }
    let me: RankRecords | null = null;
    const local = new Map<number, string>([[0, '0']]);
    for (const f of frames) {
      let env;
      try {
        env = decodeEnvelope(f);
      } catch {
        break;
      } // the tail of a connection cut mid-frame
      if (env.kind === 'hello') {
        me = out.get(env.hello.rank) ?? { rank: env.hello.rank, comms: new Map(), records: [], dropped: 0 };
        out.set(env.hello.rank, me);
      } else if (env.kind === 'commDef' && me) {
        const key = env.commDef.globalId.toString();
        local.set(env.commDef.localId, key);
        me.comms.set(key, env.commDef.members);
      } else if (env.kind === 'batch' && me) {
        const b = env.batch;
        me.dropped += b.dropped;
        for (let i = 0; i < b.n; i++) {
          me.records.push({
            fn: fnName(b.fn[i] & ((1 << ROLE_SHIFT) - 1)),
            role: b.fn[i] >>> ROLE_SHIFT,
            peer: b.peer[i],
            bytes: b.bytes[i],
            comm: 0,
            alg: b.alg[i],
            crossMsgs: b.crossMsgs[i],
            crossBytes: b.crossBytes[i],
            epoch: b.epoch,
          });
          (me.records[me.records.length - 1] as Rec & { commKey: string }).commKey =
            local.get(b.comm[i]) ?? `?${b.comm[i]}`;
        }
      }
    }
  }
  return out;
}

export const commKey = (r: Rec): string => (r as Rec & { commKey: string }).commKey;

/** Per rank and communicator: the covered calls in order and the markers with their call index. */
export interface CommTrace {
  calls: Rec[];
  switches: { call: number; epoch: number; provider: number }[];
  seen: { call: number; epoch: number }[];
  /** markers whose call index disagreed with the number of call records before them */
  indexErrors: number;
}

export function traces(rr: RankRecords): Map<string, CommTrace> {
  const out = new Map<string, CommTrace>();
  const get = (k: string) => {
    let t = out.get(k);
    if (!t) out.set(k, (t = { calls: [], switches: [], seen: [], indexErrors: 0 }));
    return t;
  };
  for (const r of rr.records) {
    if (r.role === Role.Coll && COVERED.has(r.fn)) get(commKey(r)).calls.push(r);
    else if (r.role === Role.Placement) {
      const t = get(commKey(r));
      if (r.crossBytes !== t.calls.length) t.indexErrors++;
      if (r.alg === PlacementMark.Switch) t.switches.push({ call: r.crossBytes, epoch: r.bytes, provider: r.peer });
      else if (r.alg === PlacementMark.Seen) t.seen.push({ call: r.crossBytes, epoch: r.bytes });
    }
  }
  return out;
}

/** Number of distinct sites among a communicator's members under a world placement. */
export function sitesOf(members: number[], siteOf: number[]): number {
  return new Set(members.map((w) => siteOf[w])).size;
}

export function randomPlacement(epoch: number, size: number, rnd: () => number): Placement {
  const S = 1 + Math.floor(rnd() * 4);
  const sites = Array.from({ length: S }, (_, i) => `s${i}`);
  const siteOf = Array.from({ length: size }, () => Math.floor(rnd() * S));
  return { epoch, sites, siteOf };
}

/** A small seeded PRNG (mulberry32), so a failing run can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
