// What the monitor knows about one rank of a job.
import { FUNCTIONS } from '../generated/functions.js';
import type { Bye } from '../wire/messages.js';
import { CollTable } from './colltable.js';
import { U64Array } from './counters.js';
import { CommPhase } from './rates.js';

const NFN = FUNCTIONS.length;
/** MPI_Init, MPI_Init_thread, MPI_Finalize: their time is set apart from the application's MPI time. */
const LIFECYCLE_IDS = FUNCTIONS.filter((f) => /^MPI_(Init|Init_thread|Finalize)$/.test(f.name)).map((f) => f.id);
/** Largest seq gap whose missing batches are remembered individually (so a late one is accepted). */
const MAX_TRACKED_GAP = 1 << 16;

export class RankState {
  host = '';
  pid = 0;
  program = '';
  /** CLOCK_REALTIME of MPI_Init at the rank, ns since the epoch */
  startNs: bigint | null = null;
  openConnections = 0;
  connections = 0;
  bye: Bye | null = null;
  /** Sum of durations of call records received. */
  mpiNsRecorded = 0;
  /** Latest record end seen (ns since startNs). */
  lastNs = 0;
  /** Records received (all roles). */
  records = 0;
  /** Call records received (roles 0-4). */
  calls = 0;
  /** Sum of Batch.dropped. */
  droppedReported = 0;
  nextSeq = 0;
  readonly missing = new Set<number>();
  lostUntracked = 0;
  duplicateBatches = 0;
  batches = 0;
  /** rank-local communicator id -> job communicator index (sparse: ids are the shim's, any uint32) */
  readonly localComm = new Map<number, number>();
  readonly fnCalls = new Float64Array(NFN);
  readonly fnBytes = new U64Array(NFN);
  readonly fnTime = new U64Array(NFN);
  readonly coll = new CollTable();
  /** From the first to the last communication record (ns since startNs). */
  readonly phase = new CommPhase();
  crossSiteMessages = 0;
  crossSiteBytes = 0;
  unknownFunctions = 0;
  unknownComms = 0;
  invalidPeers = 0;
  inexact = false;

  constructor(readonly rank: number) {}

  /**
   * Accepts a batch sequence number; false for a duplicate (already received). A gap is
   * remembered seq by seq when it is small and at most `room` (the job's budget) allows.
   */
  acceptSeq(seq: number, room = MAX_TRACKED_GAP): boolean {
    if (seq === this.nextSeq) {
      this.nextSeq++;
      return true;
    }
    if (seq > this.nextSeq) {
      const gap = seq - this.nextSeq;
      if (gap <= MAX_TRACKED_GAP && gap <= room) for (let s = this.nextSeq; s < seq; s++) this.missing.add(s);
      else this.lostUntracked += gap;
      this.nextSeq = seq + 1;
      return true;
    }
    if (this.missing.delete(seq)) return true;
    this.duplicateBatches++;
    return false;
  }

  /** Batches never received (sequence gaps). */
  get lostBatches(): number {
    return this.missing.size + this.lostUntracked;
  }

  /** Records dropped by the shim (queue full), from the batches or Bye, whichever is larger. */
  get dropped(): number {
    return Math.max(this.droppedReported, this.bye?.dropped ?? 0);
  }

  /** Records produced but neither received nor reported dropped (known once Bye has arrived). */
  get lostRecords(): number {
    return this.bye ? Math.max(0, this.bye.records - this.records - this.dropped) : 0;
  }

  /** Wall time (ns): Bye.endNs, or the end of the latest record before Bye. */
  get wallNs(): number {
    return this.bye && this.bye.endNs > 0 ? this.bye.endNs : this.lastNs;
  }

  /**
   * Time inside MPI (ns) with MPI_Init/Init_thread/MPI_Finalize: Bye.mpiNs (exact even when records
   * were dropped), or the sum of durations.
   */
  get mpiNsAll(): number {
    return this.bye && this.bye.mpiNs > 0 ? this.bye.mpiNs : this.mpiNsRecorded;
  }

  /** Time in MPI_Init/Init_thread/MPI_Finalize (ns), from their records. */
  get initFinalizeNs(): number {
    let t = 0;
    for (const id of LIFECYCLE_IDS) t += this.fnTime.num(id);
    return t;
  }

  /**
   * The application's time inside MPI (ns): without MPI_Init/Finalize, which every rank pays once
   * whatever it does (a tenth of a second or more of Finalize would otherwise count as MPI time).
   */
  get mpiNs(): number {
    return Math.max(0, this.mpiNsAll - this.initFinalizeNs);
  }

  /** The application's time in MPI over the wall time. */
  get mpiFraction(): number {
    const w = this.wallNs;
    return w > 0 ? Math.min(1, this.mpiNs / w) : 0;
  }

  /** The job's communicator index of a rank-local communicator id, -1 when not announced. */
  commIndex(localId: number): number {
    return this.localComm.get(localId) ?? -1;
  }
}
