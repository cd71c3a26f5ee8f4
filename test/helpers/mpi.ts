// Tests use the project's MPI toolchain helpers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileMpi as compileProgram } from '../../src/mpi/toolchain.js';

export * from '../../src/mpi/toolchain.js';

/** Headers the C test programs share (check_ops.h: hash3, matmul8). */
const sharedHeaders = path.join(path.dirname(fileURLToPath(import.meta.url)), 'c');

/**
 * compileMpi for test programs: C sources also see test/helpers/c. The headers' text joins the
 * compile flags (a define nothing reads), so a changed header makes a fresh binary: compileMpi
 * caches binaries by source text and flags.
 */
export function compileMpi(source: string, extra: string[] = []): string {
  if (!/\.c$/.test(source)) return compileProgram(source, extra);
  const hash = crypto.createHash('sha1');
  for (const name of fs.readdirSync(sharedHeaders).sort())
    hash.update(name).update(fs.readFileSync(path.join(sharedHeaders, name)));
  return compileProgram(source, [
    `-I${sharedHeaders}`,
    `-DSITEMPI_TEST_HEADERS=${hash.digest('hex').slice(0, 12)}`,
    ...extra,
  ]);
}
