// Where the package and its native build outputs are: the one place that looks them up (the
// monitor, the CLI, the testbed, the benchmarks and the tests all ask here).
//
// The package root is the nearest directory with a package.json above this module (works from
// src/ under vitest and from dist/src after tsc). The native outputs (libsitempi.so, sitempi.node,
// wanemu, sitempi-demo) are in build/Release of it, or in $SITEMPI_BUILD_DIR when set: the one
// environment variable that moves them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (package) root. */
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
export const nativeBuildDir: string = process.env.SITEMPI_BUILD_DIR
  ? path.resolve(process.env.SITEMPI_BUILD_DIR)
  : path.join(packageRoot, 'build', 'Release');
export const shimLibraryPath: string = path.join(nativeBuildDir, 'libsitempi.so');
export const wanemuPath: string = path.join(nativeBuildDir, 'wanemu');

/** How to build the native outputs where one is missing: in a checkout, or an installed package. */
export const BUILD_HINT = '`npm run build` in a checkout, `npm rebuild sitempi` where it is installed as a package';

/** The shim a command preloads: `given` (--lib, else $SITEMPI_LIB, else the build's), which must exist. */
export function shimToPreload(given: string | undefined): string {
  const lib = path.resolve(given ?? process.env.SITEMPI_LIB ?? shimLibraryPath);
  if (!fs.existsSync(lib)) throw new Error(`the shim ${lib} does not exist (build it: ${BUILD_HINT}; or pass --lib)`);
  return lib;
}
