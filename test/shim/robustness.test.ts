// The application must never notice the monitor: absent, killed mid-run, or talking garbage, the
// program's output and exit code stay what they are without the shim, and it does not hang.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeBuildDir, packageRoot } from '../../src/native/paths.js';
import { compileMpi, mpirun, rootEnv, tempDir } from '../helpers/mpi.js';

const demo = path.join(nativeBuildDir, 'sitempi-demo');
const patternsBin = compileMpi('test/shim/programs/patterns.c');
const cli = path.join(packageRoot, 'bin', 'sitempi.js');
const P = 4;

async function plain(program: string, args: string[]) {
  return mpirun({ np: P, program, args, shim: false });
}

describe('the application never depends on the monitor', () => {
  it('monitor absent: same output and exit code, no hang', async () => {
    const want = await plain(demo, ['20000', '300']);
    const t0 = Date.now();
    const got = await mpirun({
      np: P,
      program: demo,
      args: ['20000', '300'],
      env: { SITEMPI_MONITOR: `unix:${tempDir('none')}/absent.sock` },
    });
    expect(got.code).toBe(want.code);
    expect(got.stdout).toBe(want.stdout);
    expect(got.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('monitor killed mid-run: the job completes with the same output', async () => {
    const sock = `${tempDir('killed')}/monitor.sock`;
    const monitor = spawn('node', [cli, 'monitor', '--listen', `unix:${sock}`], { env: rootEnv(), stdio: 'ignore' });
    await waitForSocket(sock);
    const want = await plain(demo, ['50000', '3000']);
    const running = mpirun({
      np: P,
      program: demo,
      args: ['50000', '3000'],
      env: { SITEMPI_MONITOR: `unix:${sock}`, SITEMPI_FLUSH_MS: '20' },
    });
    await new Promise((r) => setTimeout(r, 800));
    monitor.kill('SIGKILL');
    const got = await running;
    expect(got.code).toBe(want.code);
    expect(got.stdout).toBe(want.stdout);
  });

  it('a "monitor" that answers garbage: same output, exit code 0', async () => {
    const sock = `${tempDir('garbage')}/monitor.sock`;
    const server = net.createServer((c) => {
      c.on('error', () => {});
      c.write(crypto.randomBytes(64 * 1024));
      c.write(Buffer.from([0xff, 0xff, 0xff, 0x7f])); // an absurd frame length
    });
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const want = await plain(patternsBin, ['collectives']);
      const got = await mpirun({
        np: P,
        program: patternsBin,
        args: ['collectives'],
        env: { SITEMPI_MONITOR: `unix:${sock}` },
      });
      expect(got.code).toBe(0);
      expect(got.stdout).toBe(want.stdout);
    } finally {
      server.close();
    }
  });

  it("erroneous calls under MPI_ERRORS_RETURN return the library's error classes, with or without sites", async () => {
    const errors = compileMpi('test/shim/programs/errors_return.c');
    const lines = (out: string) => out.split('\n').filter(Boolean).sort();
    const want = await mpirun({ np: 2, program: errors, args: [], shim: false });
    expect(want.code).toBe(0);
    expect(lines(want.stdout)).toContain('Recv-truncate 15'); // MPI_ERR_TRUNCATE: the program does what it says
    for (const env of [{}, { SITEMPI_SITES: 'A:0;B:1' }] as Record<string, string>[]) {
      const got = await mpirun({
        np: 2,
        program: errors,
        args: [],
        env: { SITEMPI_OUTPUT_DIR: tempDir('errors'), ...env },
      });
      expect(got.code).toBe(0);
      expect(lines(got.stdout)).toEqual(lines(want.stdout));
    }
  });

  it('MPI_Abort keeps its exit code under the shim', async () => {
    const abort = compileMpi('test/shim/programs/abort.c');
    const want = await plain(abort, []);
    const got = await mpirun({ np: 2, program: abort, args: [], env: { SITEMPI_OUTPUT_DIR: tempDir('abort') } });
    expect(want.code).not.toBe(0);
    expect(got.code).toBe(want.code);
    expect(got.stdout).toBe(want.stdout);
  });

  it('SITEMPI_DISABLE=1 passes everything through and writes nothing', async () => {
    const dir = tempDir('disabled');
    const got = await mpirun({
      np: P,
      program: patternsBin,
      args: ['ring'],
      env: { SITEMPI_DISABLE: '1', SITEMPI_OUTPUT_DIR: dir },
    });
    expect(got.code).toBe(0);
    expect((await import('node:fs')).readdirSync(dir)).toEqual([]);
  });
});

async function waitForSocket(p: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(p, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no monitor at ${p}`);
}
