// npm's install step. Where sitempi is installed as a package (its directory inside node_modules),
// builds its native parts with cmake-js as `npm run build:native` does in a checkout: the shim
// libsitempi.so, the addon sitempi.node, wanemu and the demo program, into build/Release. A
// checkout is built by `npm run build` (.ci/install), so nothing happens there, nor where the parts
// are already built. Needs cmake, a C and C++ compiler and MPI's development files.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outputs = ['libsitempi.so', 'sitempi.node'].map((f) => path.join(root, 'build', 'Release', f));
const needs = 'cmake, a C and C++ compiler and MPI (Debian: apt-get install cmake g++ libopenmpi-dev openmpi-bin)';

if (path.basename(path.dirname(root)) !== 'node_modules' || outputs.every((f) => fs.existsSync(f))) process.exit(0);

const cmake = spawnSync('cmake', ['--version'], { stdio: 'ignore' });
if (cmake.error || cmake.status !== 0) {
  console.error(`sitempi: cannot build the shim and the addon: cmake not found; they need ${needs}`);
  process.exit(1);
}
const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
// Not the C++ unit tests of native/core: a checkout's tests run them.
const r = spawnSync(process.execPath, [cmakeJs, 'compile', '--CDSITEMPI_CORE_TESTS=OFF'], {
  cwd: root,
  stdio: 'inherit',
});
if (r.status !== 0 || !outputs.every((f) => fs.existsSync(f))) {
  console.error(`sitempi: building the shim and the addon failed (above); they need ${needs}`);
  process.exit(1);
}
