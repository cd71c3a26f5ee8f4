// Suites that need root (network namespaces, TUN devices, the wanemu daemon, mounts) run only as
// root; as any other user they are skipped with one line that says why. CI runs as root and runs
// everything, so `npm test` stays the whole suite there.
import { describe } from 'vitest';

/** Whether this process runs as root. */
export const isRoot: boolean = typeof process.getuid === 'function' && process.getuid() === 0;

/** `describe` for a root-only suite: as root, the suite; otherwise skipped with its reason. */
export function describeAsRoot(name: string, fn: () => void): void {
  if (isRoot) {
    describe(name, fn);
    return;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'unknown';
  console.warn(`[skipped] ${name}: needs root (uid ${uid}); CI runs it as root`);
  describe.skip(`${name} [skipped: needs root]`, fn);
}
