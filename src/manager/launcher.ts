// Launching a job under the shim on the nodes the manager chose: mpirun with a --host list (on the
// testbed, through its rsh agent and data network: src/testbed/launch.ts), the shim preloaded, the
// ranks pointed at the manager's embedded monitor; output and exit code go to the job's files.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { mpirunArgsFor } from '../testbed/launch.js';
import type { TestbedState } from '../testbed/state.js';
import type { Cluster, NodeShare } from './cluster.js';

export interface LaunchContext {
  cluster: Cluster;
  /** The testbed the nodes are on, or null: mpirun reaches the nodes' hosts directly. */
  testbed: TestbedState | null;
  mpirun: string;
  shim: string;
  /** Address the ranks send to (the embedded monitor) and its token. */
  monitor: string;
  token: string | undefined;
}

export interface LaunchJob {
  monitorJob: string;
  jobKey: string;
  np: number;
  mpirunArgs: string[];
  app: string[];
  cwd: string;
  stdout: string;
  stderr: string;
}

/** mpirun options the manager sets itself: a job may not choose its own hosts or size. */
const RESERVED = /^(-np|-n|--np|-H|--host|--hostfile|-hostfile|--machinefile|-machinefile|--default-hostfile)(=.*)?$/;

export function checkMpirunArgs(args: readonly string[]): void {
  for (const a of args)
    if (RESERVED.test(a))
      throw new Error(`mpirun option ${a.split('=')[0]} is the manager's to set (use -np of submit)`);
}

/** The --host list: slots per host (nodes sharing a host, e.g. localhost, add up). */
export function hostList(cluster: Cluster, shares: readonly NodeShare[]): string {
  const per = new Map<string, number>();
  for (const s of shares) {
    const h = cluster.node(s.node).host;
    per.set(h, (per.get(h) ?? 0) + s.slots);
  }
  return [...per].map(([h, k]) => `${h}:${k}`).join(',');
}

export interface Launched {
  child: ChildProcess;
  /** Resolves when mpirun is gone: its exit code, or the signal that ended it. */
  done: Promise<{ exitCode: number | null; signal: string | null; error?: string }>;
}

export function launch(ctx: LaunchContext, job: LaunchJob, shares: readonly NodeShare[]): Launched {
  const hosts = hostList(ctx.cluster, shares);
  let placeArgs: string[];
  if (ctx.testbed) {
    placeArgs = mpirunArgsFor(ctx.testbed, { nodes: shares.map((s) => s.node) });
    // The testbed's list gives whole nodes; the job holds only its share of each.
    placeArgs[placeArgs.indexOf('--host') + 1] = hosts;
  } else placeArgs = ['--host', hosts];
  const env: NodeJS.ProcessEnv = { ...process.env, SITEMPI_TOKEN: ctx.token ?? '', SITEMPI_JOB_KEY: job.jobKey };
  if (process.getuid?.() === 0) {
    env.OMPI_ALLOW_RUN_AS_ROOT = '1';
    env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
  }
  // Secrets reach the ranks by environment (-x NAME), never on mpirun's command line.
  const xs = [
    '-x',
    `LD_PRELOAD=${ctx.shim}`,
    '-x',
    `SITEMPI_MONITOR=${ctx.monitor}`,
    '-x',
    `SITEMPI_JOB=${job.monitorJob}`,
    '-x',
    'SITEMPI_JOB_KEY',
    ...(ctx.token ? ['-x', 'SITEMPI_TOKEN'] : []),
  ];
  const args = [...placeArgs, ...xs, ...job.mpirunArgs, '-np', String(job.np), ...job.app];
  const out = fs.openSync(job.stdout, 'w', 0o600);
  const err = fs.openSync(job.stderr, 'w', 0o600);
  let child: ChildProcess;
  try {
    // A process group of its own: a cancel can end mpirun and whatever it left behind.
    child = spawn(ctx.mpirun, args, { cwd: job.cwd, env, stdio: ['ignore', out, err], detached: true });
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  const done = new Promise<{ exitCode: number | null; signal: string | null; error?: string }>((resolve) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      const msg = e.code === 'ENOENT' ? `${ctx.mpirun} not found` : e.message;
      try {
        fs.appendFileSync(job.stderr, `sitempi manager: cannot start mpirun: ${msg}\n`);
      } catch {
        /* the message is in the job record too */
      }
      resolve({ exitCode: 127, signal: null, error: msg });
    });
    child.once('close', (code, sig) => resolve({ exitCode: code, signal: sig }));
  });
  return { child, done };
}

/** SIGTERM to mpirun (it passes it to the ranks), SIGKILL to its whole group after `graceMs`. */
export function terminate(l: Launched, graceMs: number): void {
  const pid = l.child.pid;
  if (pid === undefined) return;
  const kill = (sig: NodeJS.Signals, group: boolean) => {
    try {
      process.kill(group ? -pid : pid, sig);
    } catch {
      /* gone already */
    }
  };
  kill('SIGTERM', false);
  const t = setTimeout(() => kill('SIGKILL', true), graceMs);
  t.unref();
  void l.done.then(() => {
    clearTimeout(t);
    kill('SIGKILL', true); // leftovers of the group, if any
  });
}

/** 128 + signal number, as a shell reports a process a signal ended. */
export function exitCodeOf(r: { exitCode: number | null; signal: string | null }): number {
  if (r.exitCode !== null) return r.exitCode;
  const n = r.signal ? (os.constants.signals as Record<string, number>)[r.signal] : undefined;
  return 128 + (n ?? 0);
}
