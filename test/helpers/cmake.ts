// Extra configurations of the project's own CMake build for checks that need other compilers or
// flags (a shim built with AddressSanitizer, the libFuzzer targets): each in its own directory
// under build/, configured once and rebuilt incrementally.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/native/paths.js';

export interface VariantBuild {
  /** Directory of the outputs (CMAKE_LIBRARY_OUTPUT_DIRECTORY). */
  outDir: string;
}

/** Configures build/<name> with `defs` and builds `targets`; throws with the build log on failure. */
export function buildVariant(name: string, defs: Record<string, string>, targets: string[], env: NodeJS.ProcessEnv = {}): VariantBuild {
  const dir = path.join(packageRoot, 'build', name);
  const outDir = path.join(dir, 'Release');
  const generator = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
  const e = { ...process.env, ...env };
  if (!fs.existsSync(path.join(dir, 'CMakeCache.txt'))) {
    const args = ['-S', packageRoot, '-B', dir, ...generator, '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${outDir}`,
      ...Object.entries(defs).map(([k, v]) => `-D${k}=${v}`)];
    const c = spawnSync('cmake', args, { env: e, encoding: 'utf8' });
    if (c.status !== 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`cmake configure of build/${name} failed:\n${c.stdout}\n${c.stderr}`);
    }
  }
  const b = spawnSync('cmake', ['--build', dir, '--target', ...targets], { env: e, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`cmake build of build/${name} failed:\n${b.stdout}\n${b.stderr}`);
  return { outDir };
}
