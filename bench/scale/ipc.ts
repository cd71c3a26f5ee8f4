// Messages between the scale benchmark's driver (run.ts), its generator workers (generator.ts)
// and the monitor process (monitor-host.ts), over Node's IPC channel ('advanced' serialization,
// so typed arrays travel as they are), and how those processes are started.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** CPU time of a process (ms, user + system), as it measures itself. */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wall clock (ms since 1970, sub-ms) comparable between the processes of one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface WorkerInit {
  cmd: 'init';
  address: string;
  job: string;
  jobKey: string;
  size: number;
  /** this worker's ranks: first .. first + count - 1 */
  first: number;
  count: number;
  batches: number;
  recordsPerBatch: number;
  /** writes not yet handed to the kernel, at most, per worker */
  window: number;
}

export type WorkerCommand = WorkerInit | { cmd: 'connect' } | { cmd: 'stream' } | { cmd: 'bye' };

/** What a worker sent, for the check against the monitor's totals. */
export interface WorkerSent {
  records: number;
  frames: number;
  wireBytes: number;
  /** function code -> [calls, bytes] */
  fn: Array<[number, number, number]>;
  /** Isend traffic: parallel arrays */
  src: Int32Array;
  dst: Int32Array;
  bytes: Float64Array;
  messages: Float64Array;
  /** Allreduce records per rank (rank first + i) */
  allreduces: Float64Array;
}

export type WorkerReply =
  | { ev: 'ready'; cpuMs: number }
  | { ev: 'connected'; t: number; cpuMs: number; retries: number; failed: number; slowestMs: number }
  /** a rank's connection closed before its Bye (reset, or closed by the monitor) */
  | { ev: 'lost'; rank: number; message: string }
  | { ev: 'streamed'; t: number; cpuMs: number; records: number; wireBytes: number }
  | { ev: 'closed'; t: number; cpuMs: number; sent: WorkerSent; refused: number; errors: string[] };

export interface HostInit {
  cmd: 'init';
  size: number;
  maxRanks: number;
  /** listen backlog for the experiment (default: what the monitor uses) */
  backlog?: number;
  /** time decode and aggregation per frame (instrumented Session.frame) */
  split: boolean;
  /** also build the job's report (report.ts) and return its totals */
  report: boolean;
  /** the monitor's helloTimeoutMs (undefined: its default) */
  helloTimeoutMs?: number;
  /** ask for the job's matrix (false: no traffic was sent; spares a dense monitor P x P cells) */
  matrix: boolean;
}

export interface HostTotals {
  records: number;
  ranksSeen: number;
  ranksFinished: number;
  endReason: string | null;
  losses: { droppedRecords: number; lostBatches: number; lostRecords: number; duplicateBatches: number };
  unexpandedCollectives: number;
  limitNotes: string[];
  functions: Array<{ name: string; id: number; count: number; bytes: number }>;
  pairs: { src: Int32Array; dst: Int32Array; bytes: Float64Array; messages: Float64Array };
  totalBytes: string;
  totalMessages: string;
  pairMatrixMs: number;
  report?: {
    ms: number;
    records: number;
    dropped: Record<string, number>;
    functions: Array<{ name: string; count: number; bytes: number }>;
    topPairs: Array<{ src: number; dst: number; bytes: number; messages: number }>;
  };
}

export interface Memory {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}

export type HostReply =
  | { ev: 'listening'; address: string; cpuMs: number }
  | { ev: 'accepted'; t: number; cpuMs: number }
  | { ev: 'hellos'; t: number; cpuMs: number }
  /** a connection was refused or dropped: the run has failed */
  | { ev: 'connectionError'; message: string }
  | {
      ev: 'jobEnd';
      t: number;
      cpuMs: number;
      memory: Memory;
      /** after a full garbage collection (when node runs with --expose-gc) */
      memoryAfterGc: Memory | null;
      split: { frames: number; decodeMs: number; aggregateMs: number } | null;
      eventLoopUtilization: number;
      connectionErrors: number;
      firstErrors: string[];
      totals: HostTotals;
    };

/**
 * Starts one of this directory's scripts as a child with an IPC channel: compiled (dist/) with
 * node, or from the TypeScript sources (vitest) with vite-node. `fdLimit`: the soft limit on open
 * files it needs (RLIMIT_NOFILE, raised through the shell's ulimit; the hard limit too when it is
 * lower, which needs root).
 */
export function startChild(script: string, fdLimit: number, nodeArgs: string[] = []): ChildProcess {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const file = path.join(path.dirname(here), ts ? `${script}.ts` : `${script}.js`);
  const argv = ts ? [...nodeArgs, viteNodeCli(), file] : [...nodeArgs, file];
  const raise =
    `want=${Math.ceil(fdLimit)}; hard=$(ulimit -Hn); ` +
    `if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then ulimit -n "$want" || exit 3; ` +
    `elif [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$want" ]; then ulimit -Sn "$want"; fi; exec "$@"`;
  return spawn('/bin/sh', ['-c', raise, 'sh', process.execPath, ...argv], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
}

function viteNodeCli(): string {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const pkg = JSON.parse(readFileSync(path.join(root, 'node_modules', 'vite-node', 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  return path.join(root, 'node_modules', 'vite-node', pkg.bin['vite-node']);
}

/** CPU time (ms, user + system) of a process from /proc/PID/stat (clock ticks of 10 ms). */
export function procCpuMs(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}
