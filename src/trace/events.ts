// Trace events (Chrome's Trace Event Format, as Perfetto reads it) of one job: pid = the job,
// tid = the rank; complete events ("X") for calls or coalesced spans, instant events ("i") for
// placement marks (per rank) and relocations (global), metadata ("M") naming process and threads.
//
// Time base: a record's start is ns since its rank's MPI_Init (the shim's monotonic clock); each
// rank's Hello.startNs is CLOCK_REALTIME at that MPI_Init. An event's ts is
// (startNs - earliest startNs of the job + record start) in µs: the ranks' wall clocks align the
// tracks, so across hosts the tracks are as aligned as the hosts' clocks (NTP: typically well under
// a millisecond), while within a rank the times are exact.
import { FUNCTIONS } from '../generated/functions.js';
import type { RankCalls } from './collect.js';
import type { JobScan, PlacementMarkRecord } from './scan.js';

/** Called with each event's JSON text; may return a promise to await (backpressure). */
export type Emit = (json: string) => Promise<void> | undefined;

export interface JobEventCounts {
  /** call events and coalesced spans */
  spans: number;
  /** calls they stand for */
  calls: number;
  instants: number;
  /** tracks beyond one per rank, for calls that overlap (threads of one rank) */
  extraLanes: number;
}

const us = (ns: number): number => ns / 1000;
const fnName = (fn: number): string => (fn >= 0 ? FUNCTIONS[fn].name : 'MPI');
const QUOTED_NAMES = FUNCTIONS.map((f) => JSON.stringify(f.name));

/** The earliest call of the job's ranks (CLOCK_REALTIME ns: a rank's MPI_Init end plus its first
 * call's start, which is before it for MPI_Init itself); 0n when no rank said its start. */
export function jobOrigin(job: JobScan): bigint {
  let base: bigint | null = null;
  for (const r of job.ranks.values()) {
    if (r.startNs <= 0n) continue;
    const t = r.startNs + BigInt(Math.min(0, Number.isFinite(r.firstNs) ? Math.floor(r.firstNs) : 0));
    if (base === null || t < base) base = t;
  }
  return base ?? 0n;
}

/** Writes the events of job `pid` (its index + 1). */
export async function emitJob(
  job: JobScan,
  pid: number,
  calls: Map<number, RankCalls>,
  coalesced: boolean,
  emit: Emit,
): Promise<JobEventCounts> {
  const counts: JobEventCounts = { spans: 0, calls: 0, instants: 0, extraLanes: 0 };
  const base = jobOrigin(job);
  const put = async (ev: object): Promise<void> => {
    const p = emit(JSON.stringify(ev));
    if (p) await p;
  };
  const program = job.program ? ` ${job.program}` : '';
  await put({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: `job ${job.id}${program}` } });
  await put({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
  const marksByRank = new Map<number, PlacementMarkRecord[]>();
  for (const m of job.marks) {
    if (m.kind === 'switch' && m.call === 0 && m.epoch === 0) continue; // the first call's "no placement yet"
    let l = marksByRank.get(m.rank);
    if (!l) marksByRank.set(m.rank, (l = []));
    l.push(m);
  }
  const ranks = [...job.ranks.values()].sort((a, b) => a.rank - b.rank);
  for (const r of ranks) {
    // a rank that gave no start time (startNs 0) is placed at the job's origin
    const offset = r.startNs > 0n ? Number(r.startNs - base) : 0;
    const label = `rank ${r.rank}${r.host ? ` (${r.host})` : ''}`;
    await put({ name: 'thread_name', ph: 'M', pid, tid: r.rank, args: { name: label } });
    await put({ name: 'thread_sort_index', ph: 'M', pid, tid: r.rank, args: { sort_index: r.rank } });
    const marks = (marksByRank.get(r.rank) ?? []).sort((a, b) => a.ns - b.ns);
    const c = calls.get(r.rank);
    const order = c ? callOrder(c, coalesced) : new Uint32Array(0);
    const lanes = c && !coalesced ? assignLanes(c, order) : null;
    let lanesNamed = 1;
    let mi = 0;
    for (let oi = 0; oi < order.length; oi++) {
      const k = order[oi];
      const start = c!.start[k];
      for (; mi < marks.length && marks[mi].ns <= start; mi++) await put(markEvent(marks[mi], pid, offset));
      const lane = lanes ? lanes[k] : 0;
      const tid = lane * job.size + r.rank;
      for (; lanesNamed <= lane; lanesNamed++) {
        const t = lanesNamed * job.size + r.rank;
        await put({ name: 'thread_name', ph: 'M', pid, tid: t, args: { name: `${label} overlapping ${lanesNamed}` } });
        await put({ name: 'thread_sort_index', ph: 'M', pid, tid: t, args: { sort_index: r.rank } });
        counts.extraLanes++;
      }
      const n = c!.calls[k];
      // a span ends at its last call's end, or where the next span starts if that is earlier
      const next = coalesced && oi + 1 < order.length ? c!.start[order[oi + 1]] : Infinity;
      const dur = Math.max(0, Math.min(c!.end[k], next) - start);
      const ts = us(offset + start);
      if (n === 1) {
        // the hot path (a million of these): the JSON by hand, JSON.stringify is 5x slower
        let args = c!.peer[k] >= 0 ? `"peer":${c!.peer[k]},` : '';
        args += `"bytes":${c!.bytes[k]}`;
        if (c!.comm[k] >= 0) args += `,"comm":${c!.comm[k]}`;
        const p = emit(
          `{"name":${QUOTED_NAMES[c!.fn[k]]},"cat":"mpi","ph":"X","ts":${ts},"dur":${us(dur)},"pid":${pid},"tid":${tid},"args":{${args}}}`,
        );
        if (p) await p;
      } else {
        const args = { calls: n, bytes: c!.bytes[k], mpi_us: us(c!.mpiNs[k]) };
        await put({
          name: `${fnName(c!.fn[k])} x ${n}`,
          cat: 'mpi,coalesced',
          ph: 'X',
          ts,
          dur: us(dur),
          pid,
          tid,
          args,
        });
      }
      counts.spans++;
      counts.calls += n;
    }
    for (; mi < marks.length; mi++) await put(markEvent(marks[mi], pid, offset));
    counts.instants += marks.length;
  }
  for (const ev of relocations(job, base, pid)) {
    await put(ev);
    counts.instants++;
  }
  return counts;
}

/** Indexes of the filled entries in start order (buckets are in order already). */
function callOrder(c: RankCalls, coalesced: boolean): Uint32Array {
  const idx: number[] = [];
  for (let k = 0; k < c.n; k++) if (c.calls[k] > 0) idx.push(k);
  // equal starts: the longer call first, so that a shorter one can sit inside it on its lane
  if (!coalesced) idx.sort((a, b) => c.start[a] - c.start[b] || c.end[b] - c.end[a] || a - b);
  return Uint32Array.from(idx);
}

/** Lane of each call: the first lane free at its start (calls of one thread never overlap: lane 0). */
function assignLanes(c: RankCalls, order: Uint32Array): Uint16Array {
  const lane = new Uint16Array(c.n);
  const laneEnd: number[] = [];
  for (const k of order) {
    let l = 0;
    while (l < laneEnd.length && laneEnd[l] > c.start[k]) l++;
    if (l >= 0xffff) l = 0xfffe; // more overlapping calls than a track index holds: share the last
    laneEnd[l] = c.end[k];
    lane[k] = l;
  }
  return lane;
}

function markEvent(m: PlacementMarkRecord, pid: number, offset: number): object {
  const args: Record<string, number | string> = { epoch: m.epoch, call: m.call, at: FUNCTIONS[m.fn]?.name ?? 'MPI' };
  if (m.comm >= 0) args.comm = m.comm;
  if (m.supplier >= 0) args.map_from_rank = m.supplier;
  const name = m.kind === 'switch' ? `placement switch: epoch ${m.epoch}` : `placement seen: epoch ${m.epoch}`;
  return { name, cat: 'placement', ph: 'i', s: 't', ts: us(offset + m.ns), pid, tid: m.rank, args };
}

/**
 * One global instant per relocation (placement epoch > 0): at the earliest switch to it on any
 * rank, with how many ranks and communicators switched and, when the ranks said, the sites' sizes.
 */
function relocations(job: JobScan, base: bigint, pid: number): object[] {
  const byEpoch = new Map<number, { ns: number; rank: number; ranks: Set<number>; comms: Set<number> }>();
  for (const m of job.marks) {
    if (m.kind !== 'switch' || m.epoch === 0) continue;
    const r = job.ranks.get(m.rank);
    const t = (r && r.startNs > 0n ? Number(r.startNs - base) : 0) + m.ns;
    let e = byEpoch.get(m.epoch);
    if (!e) byEpoch.set(m.epoch, (e = { ns: t, rank: m.rank, ranks: new Set(), comms: new Set() }));
    if (t < e.ns) {
      e.ns = t;
      e.rank = m.rank;
    }
    e.ranks.add(m.rank);
    e.comms.add(m.comm);
  }
  return [...byEpoch.entries()]
    .sort((a, b) => a[1].ns - b[1].ns)
    .map(([epoch, e]) => {
      const args: Record<string, number | string> = {
        epoch,
        first_rank: e.rank,
        ranks_switched: e.ranks.size,
        communicators: e.comms.size,
      };
      const sites = job.sitesByEpoch.get(epoch);
      if (sites) {
        const per = new Map<number, number>();
        for (const s of sites) per.set(s, (per.get(s) ?? 0) + 1);
        args.ranks_per_site = [...per.entries()]
          .sort((a, b) => a[0] - b[0])
          .map(([s, n]) => `site ${s}: ${n}`)
          .join(', ');
      }
      return { name: `relocation: epoch ${epoch}`, cat: 'placement', ph: 'i', s: 'g', ts: us(e.ns), pid, tid: 0, args };
    });
}
