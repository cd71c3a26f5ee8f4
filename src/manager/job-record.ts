// A job of the manager, from submission to its end, and how `sitempi jobs` shows it.
import type { NodeShare } from './cluster.js';

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface JobRecord {
  id: string;
  name: string;
  np: number;
  app: string[];
  mpirunArgs: string[];
  cwd: string;
  state: JobState;
  submittedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** Later jobs that started ahead of it (queue.ts). */
  bypassed: number;
  nodes: (NodeShare & { site: string })[];
  sites: string[];
  exitCode: number | null;
  signal: string | null;
  /** The monitor's verdict once the job's ranks have reported their end. */
  verdict: string | null;
  /** Times the planner moved it (relocate.ts). */
  relocations?: number;
  /** `sitempi submit --time`: the most it runs, seconds (a bound on its remaining time, not enforced). */
  timeLimitSeconds?: number;
  /** Its remaining time as the last plan estimated it (remaining.ts), at `at` (ms since the epoch). */
  remaining?: { seconds: number; source: string; detail: string; at: number };
  error?: string;
  cancelRequested?: boolean;
  files: { stdout: string; stderr: string; exit: string; report: string };
  /** Its Slurm job id, with `sitempi manager --slurm`. */
  slurmJob?: string;
  /** The job id its ranks report under to the embedded monitor. */
  monitorJob: string;
}

export type JobView = Omit<JobRecord, 'mpirunArgs' | 'cancelRequested' | 'monitorJob'>;

/** What clients see of a job (the mpirun options stay with the manager). */
export function jobView(r: JobRecord): JobView {
  const { mpirunArgs: _m, cancelRequested: _c, monitorJob: _j, ...v } = r;
  return { ...v, nodes: v.nodes.map((n) => ({ ...n })), files: { ...v.files } };
}

function when(t: number | undefined, since: number | undefined): string {
  return t === undefined || since === undefined ? '-' : `${((t - since) / 1000).toFixed(1)}s`;
}

/** The table of `sitempi jobs`. */
export function formatJobs(jobs: readonly JobView[], now = Date.now()): string {
  const rows = [['ID', 'NAME', 'NP', 'STATE', 'EXIT', 'WAIT', 'RUN', 'SITES', 'NODES', 'VERDICT', 'OUTPUT']];
  for (const j of jobs)
    rows.push([
      j.id,
      j.name,
      String(j.np),
      j.state,
      j.exitCode === null ? '-' : String(j.exitCode),
      when(j.startedAt ?? (j.state === 'queued' ? now : j.endedAt), j.submittedAt),
      when(j.endedAt ?? (j.state === 'running' ? now : undefined), j.startedAt),
      j.sites.join(',') || '-',
      j.nodes.map((n) => `${n.node}:${n.slots}`).join(',') || '-',
      j.verdict?.replace(/-intensive$/, '') ?? '-',
      j.state === 'queued' ? '-' : j.files.stdout.replace(/\.out$/, '.{out,err,exit}'),
    ]);
  return table(rows);
}

/** Rows as columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(w[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
