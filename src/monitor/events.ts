// The events a Monitor emits, with their listeners' signatures.
import type { JobProfile } from './job.js';

/** A connection was refused or dropped for breaking the protocol. */
export interface ConnectionErrorEvent {
  error: Error;
  /** remote address (tcp) or listening path (unix) */
  remote: string;
  job?: string;
  rank?: number;
}

export interface MonitorEvents {
  jobStart: (job: JobProfile) => void;
  /**
   * A rank connection has said Hello (its frames of that chunk are applied). Emitted once per
   * connection; a listener may answer that rank alone with sendPlacement(job.id, p, { rank }).
   */
  rankHello: (job: JobProfile, rank: number) => void;
  /** New data for a job, at most once per updateIntervalMs. */
  jobUpdate: (job: JobProfile) => void;
  /** The job ended (job.endReason says why); it is no longer in monitor.jobs(). */
  jobEnd: (job: JobProfile) => void;
  /** A server-level error (a listening socket failed). Only emitted when someone listens. */
  error: (err: Error) => void;
  connectionError: (ev: ConnectionErrorEvent) => void;
}
