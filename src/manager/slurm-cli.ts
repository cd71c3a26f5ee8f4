// Talking to Slurm through its own commands (sbatch, squeue, sinfo, scontrol, scancel): each run
// bounded in time and output, and what squeue/sinfo print as JSON read into the few fields the
// manager needs. No slurmdbd is assumed: jobs are followed with `squeue --json --states=all`, which
// keeps ended jobs for the controller's MinJobAge.
import { execFile } from 'node:child_process';
import os from 'node:os';

export class SlurmError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SlurmError';
  }
}

export interface SlurmCliOptions {
  /** slurm.conf of the cluster (SLURM_CONF); default: Slurm's own default or $SLURM_CONF. */
  conf?: string;
  /** Longest a command may take, ms (default 15000): a controller that hangs does not hang us. */
  timeoutMs?: number;
}

/** A node as Slurm sees it. */
export interface SlurmNode {
  name: string;
  cpus: number;
  allocCpus: number;
  /** AvailableFeatures and ActiveFeatures. */
  features: string[];
  activeFeatures: string[];
  /** "idle", "mixed", "allocated", "down", ... and flags such as DRAIN. */
  state: string;
  flags: string[];
}

/** A job as Slurm sees it. */
export interface SlurmJob {
  id: string;
  /** PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, ... */
  state: string;
  reason: string;
  /** The wait status of the batch script (exit code << 8 | signal), null while it runs. */
  exitStatus: number | null;
  /** Allocated nodes and CPUs on each (empty while pending). */
  nodes: { node: string; cpus: number }[];
}

const MAX_OUTPUT = 64 * 1024 * 1024;

export class SlurmCli {
  constructor(private readonly opts: SlurmCliOptions = {}) {}

  /** Runs a Slurm command; resolves with its standard output, rejects with its standard error. */
  run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
    const e = this.opts.conf ? { ...env, SLURM_CONF: this.opts.conf } : env;
    return new Promise((resolve, reject) => {
      execFile(
        cmd,
        args,
        { env: e, timeout: this.opts.timeoutMs ?? 15_000, maxBuffer: MAX_OUTPUT, encoding: 'utf8' },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found (is Slurm installed?)' : '';
          const msg = why || stderr.trim().split('\n').slice(-3).join('; ') || err.message;
          reject(new SlurmError(`${cmd}: ${msg}`));
        },
      );
    });
  }

  async nodes(): Promise<SlurmNode[]> {
    return parseSinfoJson(await this.run('sinfo', ['--json']));
  }

  async jobs(): Promise<Map<string, SlurmJob>> {
    return parseSqueueJson(await this.run('squeue', ['--json', '--states=all']));
  }

  /** Sets a node's available and active features (as root or SlurmUser). */
  async setFeatures(node: string, features: readonly string[]): Promise<void> {
    const f = features.join(',');
    await this.run('scontrol', ['update', `NodeName=${node}`, `AvailableFeatures=${f}`, `ActiveFeatures=${f}`]);
  }

  async cancel(id: string): Promise<void> {
    await this.run('scancel', [id]);
  }

  /** sbatch --parsable ...: the new job's id. */
  async submit(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    const out = (await this.run('sbatch', ['--parsable', ...args], env)).trim();
    const id = out.split(';')[0];
    if (!/^\d+$/.test(id)) throw new SlurmError(`sbatch: unexpected answer "${out.slice(0, 200)}"`);
    return id;
  }
}

type Json = Record<string, unknown>;

function parseJson(text: string, what: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SlurmError(`${what} --json: not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null) throw new SlurmError(`${what} --json: not an object`);
  const errors = (doc as Json).errors;
  if (Array.isArray(errors) && errors.length > 0)
    throw new SlurmError(`${what}: ${errors.map((e) => (e as Json).description ?? (e as Json).error).join('; ')}`);
  return doc as Json;
}

const list = (v: unknown): string[] =>
  typeof v === 'string' && v && v !== '(null)' ? v.split(',').filter(Boolean) : [];
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
/** Later Slurm versions print states as arrays (["RUNNING"]) and numbers as {set, number}. */
const word = (v: unknown): string | null =>
  typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : null;
const num = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof (v as Json)?.number === 'number' ? ((v as Json).number as number) : null;

/** A wait status from 22.05's integer or a later {return_code, signal: {id}} object. */
function waitStatus(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'object' || v === null) return null;
  const code = num((v as Json).return_code) ?? 0;
  const sig = num(((v as Json).signal as Json | undefined)?.id) ?? 0;
  return sig > 0 ? sig : (code & 0xff) << 8;
}

/** The nodes of `sinfo --json` (each once: sinfo lists a node once per partition). */
export function parseSinfoJson(text: string): SlurmNode[] {
  const doc = parseJson(text, 'sinfo');
  if (!Array.isArray(doc.nodes)) throw new SlurmError('sinfo --json: no "nodes"');
  const seen = new Map<string, SlurmNode>();
  for (const n of doc.nodes as Json[]) {
    if (typeof n.name !== 'string' || seen.has(n.name)) continue;
    seen.set(n.name, {
      name: n.name,
      cpus: int(n.cpus),
      allocCpus: int(n.alloc_cpus),
      features: list(n.features),
      activeFeatures: list(n.active_features),
      state: (word(n.state) ?? 'unknown').toLowerCase(),
      flags: Array.isArray(n.state_flags) ? n.state_flags.map((f) => String(f).toUpperCase()) : [],
    });
  }
  return [...seen.values()];
}

/** CPUs allocated on one node of a job: its allocated cores (one CPU each, threads = 1) or its share. */
function allocatedCpus(node: Json, fallback: number): number {
  const sockets = node.sockets;
  if (typeof sockets !== 'object' || sockets === null) return fallback;
  let k = 0;
  for (const s of Object.values(sockets as Json)) {
    const cores = (s as Json)?.cores;
    if (typeof cores === 'object' && cores !== null)
      for (const c of Object.values(cores as Json)) if (c === 'allocated' || c === 'allocated_and_locked') k++;
  }
  return k || fallback;
}

/** The jobs of `squeue --json`, by id. */
export function parseSqueueJson(text: string): Map<string, SlurmJob> {
  const doc = parseJson(text, 'squeue');
  if (!Array.isArray(doc.jobs)) throw new SlurmError('squeue --json: no "jobs"');
  const out = new Map<string, SlurmJob>();
  for (const j of doc.jobs as Json[]) {
    if (typeof j.job_id !== 'number') continue;
    const state = word(j.job_state) ?? 'UNKNOWN';
    const res = (j.job_resources ?? {}) as Json;
    const alloc = Array.isArray(res.allocated_nodes) ? (res.allocated_nodes as Json[]) : [];
    const per = alloc.length ? Math.max(1, Math.floor(int(res.allocated_cpus) / alloc.length)) : 0;
    out.set(String(j.job_id), {
      id: String(j.job_id),
      state,
      reason: typeof j.state_reason === 'string' ? j.state_reason : '',
      exitStatus: ENDED.has(state) ? waitStatus(j.exit_code) : null,
      nodes: alloc
        .filter((n) => typeof n.nodename === 'string')
        .map((n) => ({ node: n.nodename as string, cpus: allocatedCpus(n, per) })),
    });
  }
  return out;
}

/** Slurm's job states after which nothing of the job runs any more. */
export const ENDED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
]);

/** The exit code and signal of a wait status, as a shell reports them (128 + signal). */
export function decodeExitStatus(status: number): { exitCode: number; signal: string | null } {
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(os.constants.signals).find(([, n]) => n === sig)?.[0] ?? null;
  return { exitCode: 128 + sig, signal: name };
}

/** The feature that puts a node on a site. */
export const siteFeature = (site: string): string => `site_${site}`;

/** A node's features with its site feature replaced by `site`'s (other features are kept). */
export function withSite(features: readonly string[], site: string): string[] {
  return [...features.filter((f) => !f.startsWith('site_')), siteFeature(site)];
}
