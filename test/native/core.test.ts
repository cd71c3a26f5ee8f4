// The C++ unit tests of native/core (wire format, cost model, site maps): the binary
// sitempi_core_tests that the CMake build makes next to the shim. Each C++ test is one vitest
// test here, so a failure names the C++ test and the checks that failed in it.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeBuildDir } from '../../src/native/paths.js';

const binary = path.join(nativeBuildDir, 'sitempi_core_tests');

function run(args: string[] = []): { status: number | null; out: string } {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('native/core unit tests (C++)', () => {
  it('the test binary exists (npm run build makes it)', () => {
    expect(fs.existsSync(binary), `${binary} is missing: run npm run build`).toBe(true);
  });

  const names = fs.existsSync(binary)
    ? execFileSync(binary, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)
    : [];

  it('covers wire, cost model and sites', () => {
    for (const prefix of ['wire_', 'cost_', 'sites_']) expect(names.some((n) => n.startsWith(prefix))).toBe(true);
  });

  for (const name of names) {
    it(name, () => {
      const r = run([name]);
      expect(r.out, r.out).toMatch(new RegExp(`^ok ${name}$`, 'm'));
      expect(r.status, r.out).toBe(0);
    });
  }

  it('the binary fails when a test filter matches nothing (its exit status is what counts)', () => {
    expect(run(['no_such_test']).status).toBe(1);
  });
});
