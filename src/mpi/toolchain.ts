// Compiling programs once per content (MPI ones with mpicc or mpifort, plain C with cc) and running
// real MPI programs with mpirun from the system Open MPI, the shim preloaded where asked.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot, shimLibraryPath } from '../native/paths.js';

const binDir = path.join(os.tmpdir(), 'sitempi-bin');

/**
 * Compiles a program once per content, compiler and flags (`-O2` and `extra`); returns the cached
 * binary. `source` is absolute or relative to the package root. Throws with the compiler's output.
 */
export function compileCached(source: string, compiler: 'cc' | 'mpicc' | 'mpifort', extra: string[] = []): string {
  const abs = path.isAbsolute(source) ? source : path.join(packageRoot, source);
  const text = fs.readFileSync(abs);
  const hash = crypto
    .createHash('sha1')
    .update(text)
    .update([compiler, ...extra].join(' '))
    .digest('hex')
    .slice(0, 12);
  const out = path.join(binDir, `${path.basename(abs).replace(/\.\w+$/, '')}-${hash}`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(binDir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const r = spawnSync(compiler, ['-O2', abs, '-o', tmp, ...extra], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${compiler} failed for ${source}:\n${r.stdout ?? ''}${r.stderr ?? ''}${r.error?.message ?? ''}`);
  fs.renameSync(tmp, out);
  return out;
}

/** Compiles an MPI program (C or Fortran, by extension) once per content; returns its path. */
export function compileMpi(source: string, extra: string[] = []): string {
  return compileCached(source, /\.f(90|08)?$/i.test(source) ? 'mpifort' : 'mpicc', extra);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MpirunOptions {
  np: number;
  program: string;
  args?: string[];
  /** Environment for the ranks (passed with -x). */
  env?: Record<string, string>;
  /** Preload the shim (default true). */
  shim?: boolean;
  timeoutMs?: number;
  mpirunArgs?: string[];
  /** Replaces baseMpirunArgs (e.g. timing runs that must not yield the core when idle). */
  baseArgs?: string[];
}

/** Options for runs on one small machine: shared memory and TCP only, more ranks than cores
 * allowed; the ranks give up their core while they poll unless told not to (one rank per core). */
export function mpirunBaseArgs(yieldWhenIdle = true): string[] {
  return [
    '--oversubscribe',
    ...(yieldWhenIdle ? ['--mca', 'mpi_yield_when_idle', '1'] : []),
    '--mca',
    'btl',
    'self,vader',
  ];
}

/** The tests' options: more ranks than cores, so the ranks yield while they poll. */
export const baseMpirunArgs = mpirunBaseArgs();

export function rootEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
}

export function mpirun(o: MpirunOptions): Promise<RunResult> {
  const args = ['-np', String(o.np), ...(o.baseArgs ?? baseMpirunArgs), ...(o.mpirunArgs ?? [])];
  const env = { ...(o.env ?? {}) };
  if (o.shim !== false) env.LD_PRELOAD = shimLibraryPath;
  for (const [k, v] of Object.entries(env)) args.push('-x', `${k}=${v}`);
  args.push(o.program, ...(o.args ?? []));
  return run('mpirun', args, o.timeoutMs ?? 60_000);
}

export function run(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
  env: NodeJS.ProcessEnv = rootEnv(),
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** A fresh temporary directory. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sitempi-${prefix}-`));
}
