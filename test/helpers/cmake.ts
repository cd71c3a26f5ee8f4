// Extra configurations of the project's own CMake build for checks that need other compilers or
// flags (a shim built with AddressSanitizer, the libFuzzer targets): each in its own directory
// under build/, configured once and rebuilt incrementally.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/native/paths.js';

/** Runs a command to its end without blocking the event loop; resolves to its status and output. */
function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (e) => resolve({ code: 127, out: String(e) }));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

/**
 * Configures build/<name> with `defs` (once) and builds `targets`; resolves to the directory of
 * the outputs, or throws with the build log.
 */
export async function buildVariant(
  name: string,
  defs: Record<string, string>,
  targets: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<string> {
  const dir = path.join(packageRoot, 'build', name);
  const outDir = path.join(dir, 'Release');
  const e = { ...process.env, ...env };
  if (!fs.existsSync(path.join(dir, 'CMakeCache.txt'))) {
    const generator = spawnSync('ninja', ['--version']).status === 0 ? ['-G', 'Ninja'] : [];
    const c = await exec(
      'cmake',
      [
        '-S',
        packageRoot,
        '-B',
        dir,
        ...generator,
        '-DCMAKE_BUILD_TYPE=Release',
        `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${outDir}`,
        ...Object.entries(defs).map(([k, v]) => `-D${k}=${v}`),
      ],
      e,
    );
    if (c.code !== 0) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`cmake configure of build/${name} failed:\n${c.out}`);
    }
  }
  const b = await exec('cmake', ['--build', dir, '--target', ...targets], e);
  if (b.code !== 0) throw new Error(`cmake build of build/${name} failed:\n${b.out}`);
  return outDir;
}
