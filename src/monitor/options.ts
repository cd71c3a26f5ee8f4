// The monitor's options and listening addresses.
import type { JobLimits } from './limits.js';

export interface MonitorOptions {
  /** Where to listen: "tcp://host:port" (port 0 = any), "unix:/path"; one or several. */
  listen?: string | string[];
  /** Shared secret every Hello must carry (compared in constant time). Unset: no check. */
  token?: string;
  /**
   * A job ends when all its ranks have sent Bye, or when it has had no open connection (and no
   * new data) for this long. Default 5000 ms.
   */
  lingerMs?: number;
  /**
   * While some rank of a job has never connected, the job waits this long (instead of lingerMs)
   * after its last connection closed for the others to come, so that ranks connecting far apart
   * in time still meet in one job. Default 60000 ms.
   */
  joinWindowMs?: number;
  /** Refuse Hellos without a job key (Hello.job_key, SITEMPI_JOB_KEY). Default false. */
  requireJobKey?: boolean;
  /**
   * What all connections that have not completed their Hello may hold together: each is charged
   * UNAUTHENTICATED_CONN_BYTES plus its buffered bytes; past the budget the oldest of them are
   * closed. Default 32 MiB (about 32 000 idle connections).
   */
  maxUnauthenticatedBytes?: number;
  /** What one job may hold (limits.ts, DEFAULT_JOB_LIMITS). */
  limits?: Partial<JobLimits>;
  /** Minimum interval between jobUpdate events of one job. Default 1000 ms. */
  updateIntervalMs?: number;
  /** Sliding window of the rates. Default 10 s. */
  rateWindowSeconds?: number;
  /** Largest frame accepted. Default 16 MiB (the shim's limit). */
  maxFrameBytes?: number;
  /** Largest job (ranks) accepted: a guard against nonsense sizes, not a memory limit (the
   * matrices are sparse, their memory grows with the pairs that talk, bounded by
   * limits.maxMatrixCells). Default DEFAULT_MAX_RANKS (65 536). */
  maxRanks?: number;
  /**
   * Send an Ack with the highest batch seq after each chunk of batches. Default false: the shim
   * does not need them, and a write to a rank that has just closed its end (after Bye) fails with
   * EPIPE, which makes Node drop the socket before the rank's last frames have been read.
   */
  ack?: boolean;
  /** How many ended jobs endedJobs() keeps (oldest dropped first). Default 100. */
  keepEndedJobs?: number;
  /** A connection that has not completed its Hello this long after connecting is closed with
   * an Error (it holds a socket, nothing else). Default 30000 ms; 0: no limit. */
  helloTimeoutMs?: number;
  /** Records each job keeps for the replay's predicted slowdown (bytes while kept; prediction.ts).
   * Default 8 MiB; 0: none kept (the rates rule decides). */
  replayBytes?: number;
  /** Records all jobs' windows keep together, running jobs and the ended ones the monitor keeps
   * (bytes; first come first kept: a window that meets the bound is truncated). Default 128 MiB. */
  replayTotalBytes?: number;
}

/** Parses "tcp://host:port", "unix:/path" (also "unix:///path"), or a bare "/path". */
export function parseListenAddress(
  a: string,
): { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string } {
  if (a.startsWith('unix:')) {
    const p = a.slice(5).replace(/^\/\/(?=\/)/, '');
    if (!p) throw new Error(`bad address ${a}`);
    return { kind: 'unix', path: p };
  }
  if (a.startsWith('/')) return { kind: 'unix', path: a };
  const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:/]*):(\d+)$/.exec(a);
  if (!m) throw new Error(`bad address ${a} (use tcp://host:port or unix:/path)`);
  const host = m[1].replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { kind: 'tcp', host, port: Number(m[2]) };
}
