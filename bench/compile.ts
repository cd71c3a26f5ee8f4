// Benchmark programs in C, compiled on first use and cached by their source's content, so that a
// run always measures the program its source says and a second run does not compile again.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { packageRoot } from '../src/native/paths.js';

/** Compiles `src` (relative to the package root) with `compiler` -O2; returns the cached binary. */
export function compileCached(src: string, compiler: 'cc' | 'mpicc'): string {
  const file = path.join(packageRoot, src);
  const hash = crypto.createHash('sha1').update(readFileSync(file)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), 'sitempi-bench-coll-bin');
  const bin = path.join(dir, `${path.basename(src, '.c')}-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync(compiler, ['-O2', '-Wall', '-o', tmp, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${compiler} failed for ${file}:\n${r.stderr ?? ''}${r.error?.message ?? ''}`);
  renameSync(tmp, bin);
  return bin;
}
