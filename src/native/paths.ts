// Where the package and its native build outputs are (works from src/ under vitest and from
// dist/src after tsc).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (works from src/ under vitest and from dist/src after tsc). */
export const packageRoot: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('sitempi: cannot find the package root');
    dir = up;
  }
  return dir;
})();

/** Where the native build puts its outputs (cmake-js: build/Release; node-gyp: the same). */
export const nativeBuildDir: string = process.env.SITEMPI_BUILD_DIR ?? path.join(packageRoot, 'build', 'Release');
export const shimLibraryPath: string = path.join(nativeBuildDir, 'libsitempi.so');
export const wanemuPath: string = path.join(nativeBuildDir, 'wanemu');

