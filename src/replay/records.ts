// Building a replay trace from a job's records: the per-rank files the shim writes (or any
// frames), decoded with the wire decoder, each rank's records turned into compute gaps and
// operations (docs/replay.md, "From records").
//
// Messages match by (source, destination, communicator, tag): the tag column of a send, of a Recv
// and of the RecvDone record that completes an Irecv or a Sendrecv's receive half (absent from
// older files: all tags 0). Which request a Wait or Test completed: its Done records (each names
// its request by how many the rank posted after it; the RecvDone of a receive follows its Done),
// for a Wait, Test, Waitany or Testany its own record's alg (that count plus one; the RecvDone
// follows the record), a Waitall without them all outstanding ones. Approximations where a rank's records have no Done
// record (files of older shims):
// - a Wait completes the rank's oldest outstanding request, Waitall/Waitsome all of them;
//   Test* calls count as compute (a test that succeeded completes its request at the next Wait);
// - a RecvDone completes the oldest open Irecv on its communicator posted for its source or for
//   MPI_ANY_SOURCE. Either way an Irecv recorded at posting with its source, tag and posted size
//   (RecvMark.Posted) receives the bytes of the message it pairs with, when fewer (the shim's
//   RecvMark.Short record says only how many fewer, not which of a pair's receives);
// - a receive from MPI_ANY_SOURCE that the records do not resolve (a Sendrecv's receive half or an
//   ANY_SOURCE Irecv in files from shims before RecvDone carried them, a completion record cut
//   off) takes the message sent earliest (recorded clock) among those still unmatched for it;
// - one-sided calls, probes and matched receives (Mprobe/Mrecv) count as compute.
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import { RecvMark } from '../generated/facts.js';
import { FUNCTIONS, Role, ROLE_SHIFT } from '../generated/functions.js';
import { expandRankFilePaths } from '../monitor/files.js';
import { FrameDecoder } from '../wire/frames.js';
import { decodeEnvelope, type Batch, type CommDef, type Hello } from '../wire/messages.js';
import { type CollCall, emitColl } from './coll-emit.js';
import { TraceBuilder, type Trace } from './trace.js';

/** Records of one rank, in start order (times: ns since the rank's Hello.startNs). */
export interface RankRecords {
  hello: Hello;
  fn: number[];
  peer: number[];
  bytes: number[];
  comm: number[];
  start: number[];
  duration: number[];
  alg: number[];
  /** point-to-point tags (absent, or 0: none recorded) */
  tag?: number[];
  /** local communicator id -> communicator key (global id and members) */
  comms: Map<number, { key: string; members: number[] }>;
}

/** A rank's communicator, keyed as the replay matches communicators across ranks. */
export function addCommDef(rec: RankRecords, c: CommDef): void {
  rec.comms.set(c.localId, {
    key: `${c.globalId}:${c.members.join(',')}|${c.remoteMembers.join(',')}`,
    members: c.remoteMembers.length ? [] : c.members,
  });
}

/** Appends at most `room` of a batch's records to the rank's columns; returns how many. */
export function appendBatch(rec: RankRecords, b: Batch, room: number): number {
  const n = Math.max(0, Math.min(b.n, room));
  for (let i = 0; i < n; i++) {
    rec.fn.push(b.fn[i]);
    rec.peer.push(b.peer[i]);
    rec.bytes.push(b.bytes[i]);
    rec.comm.push(b.comm[i]);
    rec.start.push(b.start[i]);
    rec.duration.push(b.duration[i]);
    rec.alg.push(b.alg[i]);
    rec.tag?.push(b.tag[i]);
  }
  return n;
}

/** Records kept per rank by default (about 60 B each while building). */
export const DEFAULT_MAX_RECORDS_PER_RANK = 2_000_000;

export interface ReadOptions {
  /**
   * keep at most this many records per rank: the job's first part, cut at one time for all ranks
   * (default DEFAULT_MAX_RECORDS_PER_RANK)
   */
  maxRecordsPerRank?: number;
  /** the job to read when the files hold several (default: the first one seen) */
  job?: string;
}

/** Reads per-rank files (or directories of them) into one job's records, rank by rank. */
export async function readRankRecords(paths: string[], opts: ReadOptions = {}): Promise<RankRecords[]> {
  const max = opts.maxRecordsPerRank ?? DEFAULT_MAX_RECORDS_PER_RANK;
  const files = await expandRankFilePaths(paths);
  const ranks: RankRecords[] = [];
  let job = opts.job;
  for (const file of files) {
    const fh = await fs.open(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
    try {
      if (!(await fh.stat()).isFile()) throw new Error(`${file}: not a regular file`);
      const dec = new FrameDecoder();
      let rec: RankRecords | undefined;
      let skip = false;
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; !skip;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (!bytesRead) break;
        pos += bytesRead;
        for (const body of dec.push(buf.subarray(0, bytesRead))) {
          const env = decodeEnvelope(body);
          if (env.kind === 'hello') {
            job ??= env.hello.job;
            if (env.hello.job !== job) {
              skip = true;
              break;
            }
            rec = {
              hello: env.hello,
              ...{ fn: [], peer: [], bytes: [], comm: [], start: [], duration: [], alg: [], tag: [] },
              comms: new Map(),
            };
            ranks.push(rec);
          } else if (!rec) continue;
          else if (env.kind === 'commDef') addCommDef(rec, env.commDef);
          else if (env.kind === 'batch') appendBatch(rec, env.batch, max - rec.fn.length);
        }
      }
    } finally {
      await fh.close();
    }
  }
  if (!ranks.length) throw new Error('no rank records found (no Hello in the files)');
  cutAtCommonTime(ranks, max);
  return ranks;
}

/**
 * The window kept: when a rank reached the limit, every rank's records are cut at the time its
 * last kept record started (the clocks aligned by Hello.startNs), so that the window holds both
 * ends of the messages in it. A trace of the window replays the job's first part.
 */
export function cutAtCommonTime(ranks: RankRecords[], max: number): void {
  const base = ranks.reduce((m, r) => (r.hello.startNs < m ? r.hello.startNs : m), ranks[0].hello.startNs);
  let cut = Infinity;
  for (const r of ranks)
    if (r.fn.length >= max && r.fn.length)
      cut = Math.min(cut, Number(r.hello.startNs - base) + r.start[r.fn.length - 1]);
  if (cut === Infinity) return;
  for (const r of ranks) {
    const off = Number(r.hello.startNs - base);
    let n = r.fn.length;
    while (n > 0 && off + r.start[n - 1] > cut) n--;
    for (const col of [r.fn, r.peer, r.bytes, r.comm, r.start, r.duration, r.alg, r.tag ?? []]) col.length = n;
  }
}

export interface BuildOptions {
  /** site of each world rank, for collectives that ran a site-aware algorithm (alg != 0) */
  siteOf?: ArrayLike<number>;
}

// intermediate operations, before matching
const enum K {
  Compute,
  Send,
  Recv,
  Isend,
  Irecv,
  Wait,
  Coll,
}
interface Pending {
  k: K;
  peer: number;
  bytes: number;
  chan: number;
  /** recorded absolute start (ns), for ANY_SOURCE resolution */
  at: number;
  /** a receive of the posted size: the bytes of the message it pairs with, when fewer */
  upTo?: boolean;
  /** a Wait for this one request (Done records) */
  target?: Pending;
  /** a posted request: its index among the rank's operations once emitted */
  op?: number;
  coll?: CollCall;
}

const TEST_CALLS = new Set(['MPI_Test', 'MPI_Testall', 'MPI_Testany', 'MPI_Testsome']);
const COMPLETION_KINDS = new Set(['wait', 'waitall', 'waitany', 'waitsome']);
// Calls whose record posts a request the shim numbers (native/shim/requests.h: Role Done)
const POSTING_KINDS = new Set(['isend', 'irecv', 'imrecv']);
const FN_MASK = (1 << ROLE_SHIFT) - 1;
/** A Wait/Test (-any) record, whose alg names the request it completed (native/shim/requests.h) */
const namesRequest = (code: number): boolean => {
  const k = code >>> ROLE_SHIFT === Role.Other ? FUNCTIONS[code & FN_MASK]?.kind : undefined;
  return k === 'wait' || k === 'waitany';
};

/**
 * A replay trace of a job from its ranks' records. Each rank starts at its MPI_Init's end and
 * stops at MPI_Finalize's start; the trace's recordedNs is the span from the first such start to
 * the last such stop (the recorded clocks are aligned by Hello.startNs).
 */
export function buildTrace(ranks: RankRecords[], opts: BuildOptions = {}): Trace {
  const P = ranks[0].hello.size;
  const byRank: (RankRecords | undefined)[] = Array(P);
  for (const r of ranks) {
    if (r.hello.size !== P) throw new Error(`rank ${r.hello.rank} says the job has ${r.hello.size} ranks, not ${P}`);
    if (r.hello.rank >= 0 && r.hello.rank < P) byRank[r.hello.rank] = r;
  }
  const base = ranks.reduce((m, r) => (r.hello.startNs < m ? r.hello.startNs : m), ranks[0].hello.startNs);
  const chanOf = new Map<string, number>();
  const chan = (key: string): number => {
    let c = chanOf.get(key);
    if (c === undefined) chanOf.set(key, (c = chanOf.size * 2));
    return c;
  };
  const ops: Pending[][] = [];
  const origin = new Float64Array(P),
    stop = new Float64Array(P);
  for (let w = 0; w < P; w++) {
    const list: Pending[] = [];
    ops.push(list);
    const rr = byRank[w];
    if (!rr) continue;
    const off = Number(rr.hello.startNs - base);
    // Hello.startNs is taken at MPI_Init: the rank's time starts there (or at Init's record's end)
    let cursor = off;
    let begin = off;
    let parts = new Map<number, number>();
    // Irecvs recorded without their message (role Other): completed by a RecvDone record
    const openIrecvs: { p: Pending; posted: number; chan: number }[] = [];
    let sendrecvHalf: Pending | undefined;
    // Request ids: files whose Wait/Test calls name what they completed (Done records, or the
    // completing call's own alg for a Wait or Test of one request)
    const stated = rr.fn.some((x, i) => x >>> ROLE_SHIFT === Role.Done || (rr.alg[i] > 0 && namesRequest(x)));
    let posted = 0; // posting records so far
    const reqOf = new Map<number, Pending>(); // outstanding requests by id
    let call = { s: 0, d: 0 }; // the completion call the Done records belong to
    let lastDone: Pending | undefined; // the request of the newest Done record (its RecvDone follows)
    const push = (p: Pending, s: number, d: number): void => {
      if (s > cursor) list.push({ k: K.Compute, peer: -1, bytes: s - cursor, chan: 0, at: 0 });
      list.push(p);
      cursor = Math.max(cursor, s + d);
    };
    for (let i = 0; i < rr.fn.length; i++) {
      const role = rr.fn[i] >>> ROLE_SHIFT;
      const f = FUNCTIONS[rr.fn[i] & FN_MASK];
      if (!f) continue;
      const s = off + rr.start[i],
        d = rr.duration[i];
      const c = rr.comms.get(rr.comm[i]);
      const ch = c ? chan(c.key) : -2;
      const tag = rr.tag?.[i] ?? 0;
      const pch = c && tag ? chan(`${c.key}#${tag}`) : ch; // point-to-point: one channel per tag
      const peer = rr.peer[i];
      const msg = (k: K): Pending => ({ k, peer, bytes: rr.bytes[i], chan: pch, at: s });
      if (f.kind === 'lifecycle') {
        if (f.name === 'MPI_Finalize' || f.name === 'MPI_Abort') {
          stop[w] = s;
          break;
        }
        // MPI_Init's record is stamped at the clock's origin, which is Init's end: the rank starts there
        cursor = begin = s;
        continue;
      }
      if (role === Role.PartSend && c) parts.set(peer, (parts.get(peer) ?? 0) + rr.bytes[i]);
      if (role === Role.Done) {
        const id = posted - 1 - rr.bytes[i];
        lastDone = reqOf.get(id);
        reqOf.delete(id);
        if (lastDone) push({ k: K.Wait, peer: 1, bytes: 0, chan: 0, at: call.s, target: lastDone }, call.s, call.d);
        continue;
      }
      if (role === Role.RecvDone) {
        if (rr.alg[i] === RecvMark.Short) continue; // its Irecv takes its message's bytes (resolveAnySource)
        let p: Pending | undefined;
        if (f.kind === 'sendrecv' || f.kind === 'sendrecv_replace') [p, sendrecvHalf] = [sendrecvHalf, undefined];
        else if (f.kind === 'irecv') {
          const done = lastDone;
          let j = done ? openIrecvs.findIndex((o) => o.p === done) : -1;
          if (j < 0) j = openIrecvs.findIndex((o) => o.chan === ch && (o.posted === peer || o.posted === -1));
          if (j >= 0) p = openIrecvs.splice(j, 1)[0].p;
        }
        lastDone = undefined;
        if (p) {
          p.peer = peer >= 0 && peer < P && peer !== w ? peer : -3; // -3: nothing to replay
          p.bytes = rr.bytes[i];
          p.chan = pch;
        }
        continue;
      }
      if (role === Role.Coll && c && c.members.length) {
        const me = c.members.indexOf(w);
        if (me >= 0) {
          const root = peer >= 0 ? c.members.indexOf(peer) : -1;
          const nb = f.name.startsWith('MPI_I');
          const coll = { kind: f.coll, nb, members: c.members, me, root, alg: rr.alg[i], parts };
          push({ k: K.Coll, peer: -1, bytes: rr.bytes[i], chan: ch + 1, at: s, coll }, s, d);
        }
        parts = new Map();
        continue;
      }
      const valid = peer >= 0 && peer < P && peer !== w && ch >= 0;
      const id = role <= Role.Coll && POSTING_KINDS.has(f.kind) ? posted++ : -1;
      const at = list.length;
      if (stated && role === Role.Other && COMPLETION_KINDS.has(f.kind)) {
        call = { s, d };
        if (rr.alg[i] > 0) {
          // a Wait or Test of one request: alg - 1 requests were posted after it
          const id = posted - rr.alg[i];
          lastDone = reqOf.get(id);
          reqOf.delete(id);
          if (lastDone) push({ k: K.Wait, peer: 1, bytes: 0, chan: 0, at: s, target: lastDone }, s, d);
          continue;
        }
        // a Waitall followed by no Done record completed every outstanding request
        let j = i + 1;
        while (j < rr.fn.length && rr.fn[j] >>> ROLE_SHIFT >= Role.RecvDone && rr.fn[j] >>> ROLE_SHIFT !== Role.Done)
          j++;
        if (f.name === 'MPI_Waitall' && (j >= rr.fn.length || rr.fn[j] >>> ROLE_SHIFT !== Role.Done)) {
          push({ k: K.Wait, peer: 0, bytes: 0, chan: 0, at: s }, s, d);
          reqOf.clear();
        }
        continue;
      }
      if (role === Role.Send && valid) {
        if (f.kind === 'send') push(msg(K.Send), s, d);
        else if (f.kind === 'sendrecv' || f.kind === 'sendrecv_replace') {
          push(msg(K.Isend), s, d);
          list.push((sendrecvHalf = { k: K.Irecv, peer: -1, bytes: 0, chan: ch, at: s }));
          list.push({ k: K.Wait, peer: -2, bytes: 0, chan: 0, at: s });
        } else if (f.kind !== 'rma_put' && f.kind !== 'rma_getacc' && f.kind !== 'rma_fetch' && f.kind !== 'rma_cas')
          push(msg(K.Isend), s, d);
      } else if (role === Role.Recv && valid) {
        if (f.kind === 'recv') push(msg(K.Recv), s, d);
        else if (f.kind !== 'mrecv' && f.kind !== 'imrecv')
          push({ ...msg(K.Irecv), upTo: f.kind === 'irecv' && rr.alg[i] === RecvMark.Posted }, s, d);
      } else if (role === Role.Other) {
        if (f.kind === 'irecv' && ch >= 0) {
          // the posted source (-1: MPI_ANY_SOURCE); the message comes with its RecvDone
          const posted = peer >= 0 && peer < P && peer !== w ? peer : -1;
          const p = { k: K.Irecv, peer: posted, bytes: 0, chan: ch, at: s };
          if (openIrecvs.push({ p, posted, chan: ch }) > 4096) openIrecvs.shift(); // never completed
          push(p, s, d);
        } else if (TEST_CALLS.has(f.name)) continue;
        else if (f.kind === 'wait' || f.kind === 'waitany')
          push({ k: K.Wait, peer: 1, bytes: 0, chan: 0, at: s }, s, d);
        else if (f.kind === 'waitall' || f.kind === 'waitsome')
          push({ k: K.Wait, peer: 0, bytes: 0, chan: 0, at: s }, s, d);
      }
      const made = list[list.length - 1];
      if (id >= 0 && list.length > at && (made.k === K.Isend || made.k === K.Irecv)) reqOf.set(id, made);
    }
    origin[w] = begin;
    if (!stop[w]) stop[w] = cursor;
  }
  resolveAnySource(ops, P);
  const b = new TraceBuilder(P);
  let t0 = Infinity,
    t1 = 0;
  for (let w = 0; w < P; w++)
    if (byRank[w]) {
      t0 = Math.min(t0, origin[w]);
      t1 = Math.max(t1, stop[w]);
    }
  b.recordedNs = Math.max(0, t1 - t0);
  for (let w = 0; w < P; w++) {
    if (!byRank[w]) continue;
    b.compute(w, origin[w] - t0);
    for (const p of ops[w]) emit(b, w, p, opts);
  }
  return b.finish();
}

function emit(b: TraceBuilder, w: number, p: Pending, opts: BuildOptions): void {
  switch (p.k) {
    case K.Compute:
      b.compute(w, p.bytes);
      return;
    case K.Send:
      b.send(w, p.peer, p.bytes, p.chan);
      return;
    case K.Isend:
      p.op = b.count(w);
      b.isend(w, p.peer, p.bytes, p.chan);
      return;
    case K.Recv:
      if (p.peer >= 0 && p.peer !== w) b.recv(w, p.peer, p.bytes, p.chan);
      return;
    case K.Irecv:
      if (p.peer >= 0 && p.peer !== w) {
        p.op = b.count(w);
        b.irecv(w, p.peer, p.bytes, p.chan);
      }
      return;
    case K.Wait:
      if (!p.target) b.wait(w, p.peer === -2 ? -2 : p.peer);
      else if (p.target.op !== undefined) b.waitFor(w, p.target.op);
      return;
    case K.Coll:
      emitColl(b, w, p.coll!, p.bytes, p.chan, opts.siteOf);
      return;
  }
}

/**
 * Gives receives from MPI_ANY_SOURCE the unmatched message sent earliest to them (recorded clock),
 * and receives of the posted size (upTo) the bytes of the message they pair with, when fewer.
 */
function resolveAnySource(ops: Pending[][], P: number): void {
  const sends = new Map<string, Pending[]>();
  for (let s = 0; s < P; s++)
    for (const p of ops[s])
      if (p.k === K.Send || p.k === K.Isend) {
        const key = `${s},${p.peer},${p.chan}`;
        let q = sends.get(key);
        if (!q) sends.set(key, (q = []));
        q.push(p);
      }
  for (let d = 0; d < P; d++) {
    const head = new Map<string, number>();
    for (const p of ops[d]) {
      if (p.k !== K.Recv && p.k !== K.Irecv) continue;
      if (p.peer !== -1) {
        const key = `${p.peer},${d},${p.chan}`;
        const h = head.get(key) ?? 0;
        const sent = p.upTo ? sends.get(key)?.[h] : undefined;
        if (sent && sent.bytes < p.bytes) p.bytes = sent.bytes;
        head.set(key, h + 1);
        continue;
      }
      let best = -1,
        bestAt = Infinity;
      for (let s = 0; s < P; s++) {
        if (s === d) continue;
        const key = `${s},${d},${p.chan}`;
        const q = sends.get(key);
        const h = head.get(key) ?? 0;
        if (q && h < q.length && q[h].at < bestAt) {
          best = s;
          bestAt = q[h].at;
        }
      }
      if (best >= 0) {
        p.peer = best;
        const key = `${best},${d},${p.chan}`;
        head.set(key, (head.get(key) ?? 0) + 1);
      }
    }
  }
}

/** Reads per-rank files and builds their job's trace. */
export async function traceFromFiles(paths: string[], opts: ReadOptions & BuildOptions = {}): Promise<Trace> {
  return buildTrace(await readRankRecords(paths, opts), opts);
}
