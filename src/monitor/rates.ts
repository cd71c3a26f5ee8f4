// Ingest rates of a job over a sliding window of whole seconds (monitor clock), and the phase of
// a rank's records in which it communicates (the job's clock).
import { ROLE_SHIFT, Role } from '../generated/facts.js';
import type { Batch } from '../wire/batch.js';

export interface Rates {
  windowSeconds: number;
  recordsPerSecond: number;
  /** bytes of point-to-point sends/gets, collective contributions and their parts, per second */
  bytesPerSecond: number;
  /** point-to-point messages (sends, gets, collective parts) and collective calls per second */
  messagesPerSecond: number;
}

export class RateWindow {
  private readonly stamp: Float64Array;
  private readonly recs: Float64Array;
  private readonly bytes: Float64Array;
  private readonly msgs: Float64Array;
  constructor(readonly seconds: number) {
    this.stamp = new Float64Array(seconds).fill(-1);
    this.recs = new Float64Array(seconds);
    this.bytes = new Float64Array(seconds);
    this.msgs = new Float64Array(seconds);
  }
  add(nowMs: number, r: number, b: number, m: number): void {
    const sec = Math.floor(nowMs / 1000);
    const i = sec % this.seconds;
    if (this.stamp[i] !== sec) {
      this.stamp[i] = sec;
      this.recs[i] = 0;
      this.bytes[i] = 0;
      this.msgs[i] = 0;
    }
    this.recs[i] += r;
    this.bytes[i] += b;
    this.msgs[i] += m;
  }
  rates(nowMs: number, sinceMs: number): Rates {
    const sec = Math.floor(nowMs / 1000);
    let r = 0,
      b = 0,
      m = 0;
    for (let i = 0; i < this.seconds; i++) {
      if (this.stamp[i] > sec - this.seconds && this.stamp[i] <= sec) {
        r += this.recs[i];
        b += this.bytes[i];
        m += this.msgs[i];
      }
    }
    // the window covers the last `seconds` seconds, or the job's life if shorter
    const span = Math.max(0.001, Math.min(this.seconds, (nowMs - sinceMs) / 1000));
    return {
      windowSeconds: this.seconds,
      recordsPerSecond: r / span,
      bytesPerSecond: b / span,
      messagesPerSecond: m / span,
    };
  }
}

/**
 * A rank's communicating phase: from the start of its first communication record (a send, a
 * receive, a one-sided transfer, a collective) to the end of its last, ns since its MPI_Init.
 * Rates over it leave out setup and teardown without communication, which a whole-wall rate
 * averages in (a multigrid's seconds of setup halve its rate).
 */
export class CommPhase {
  firstNs = Infinity;
  lastNs = 0;

  /** Widens the phase to the batch's communication records. */
  note(b: Pick<Batch, 'n' | 'fn' | 'start' | 'duration'>): void {
    const { n, fn, start, duration } = b;
    for (let i = 0; i < n; i++) {
      const role = fn[i] >>> ROLE_SHIFT;
      if (
        role === Role.Other ||
        role === Role.Placement ||
        role === Role.PartSend ||
        role === Role.PartPull ||
        role === Role.Done
      )
        continue;
      const s = start[i];
      if (s < this.firstNs) this.firstNs = s;
      const e = s + duration[i];
      if (e > this.lastNs) this.lastNs = e;
    }
  }

  /** Whether any communication record was seen. */
  get seen(): boolean {
    return this.firstNs !== Infinity;
  }
}
