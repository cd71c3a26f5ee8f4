// Where the shim's sender thread runs (SITEMPI_SENDER_CPUS): mpirun binds a rank to its core and
// threads inherit that; by default the sender moves off it, so its encoding does not time-slice
// with the application.
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/shim/programs/threads.c');
const multiCore = os.cpus().length >= 2;

async function cpus(env: Record<string, string>): Promise<{ main: string; sender: string; stderr: string }> {
  const r = await mpirun({ np: 1, program, baseArgs: ['--mca', 'btl', 'self', '--bind-to', 'core'],
    env: { SITEMPI_OUTPUT_DIR: tempDir('sender-cpus'), ...env } });
  expect(r.code).toBe(0);
  const field = (k: string) => /^(\S+) (.*)$/m.exec(r.stdout.split('\n').find((l) => l.startsWith(`${k} `)) ?? '')?.[2] ?? '';
  return { main: field('main'), sender: field('sender'), stderr: r.stderr };
}

describe('SITEMPI_SENDER_CPUS', () => {
  it.runIf(multiCore)('default: the sender leaves the CPU the rank is bound to', async () => {
    const { main, sender } = await cpus({});
    expect(main).toMatch(/^\d+$/);  // bound to one core
    expect(sender).not.toBe('none');
    expect(sender.split(/[,-]/)).not.toContain(main);
  });

  it('inherit: the sender keeps the rank\'s binding', async () => {
    const { main, sender } = await cpus({ SITEMPI_SENDER_CPUS: 'inherit' });
    expect(sender).toBe(main);
  });

  it('a CPU list pins the sender there', async () => {
    const { sender } = await cpus({ SITEMPI_SENDER_CPUS: '0' });
    expect(sender).toBe('0');
  });

  it('a malformed list is reported and the binding stays', async () => {
    const { main, sender, stderr } = await cpus({ SITEMPI_SENDER_CPUS: '3-1' });
    expect(stderr).toContain('ignoring SITEMPI_SENDER_CPUS=3-1');
    expect(sender).toBe(main);
  });
});
