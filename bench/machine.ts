// The machine a benchmark ran on, written into its results so that figures from several runs show
// how many machines they span: the CPU model, the kernel release and the boot id (a new one after
// each boot: a new VM, or the same one restarted); for the collective benchmark also how late its
// processes wake from a sleep (bench/wake-lateness.c), which is inside every figure it measures.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { compileCached } from '../src/mpi/toolchain.js';

/** How late `procs` processes that sleep together to one instant wake, the last of them (µs). */
export interface WakeLateness {
  procs: number;
  medianUs: number;
  p75Us: number;
}

export interface Machine {
  cpuModel?: string;
  kernel: string;
  bootId?: string;
  wakeLate?: WakeLateness[];
}

export function machine(): Machine {
  const cpuModel = os.cpus()[0]?.model.trim();
  let bootId: string | undefined;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    bootId = undefined; // not Linux, or /proc not mounted
  }
  return { ...machineOf({ cpuModel, bootId }), kernel: os.release() };
}

/**
 * Measures wake-up lateness for each count of processes: `sleeps` sleeps `periodMs` apart
 * (about sleeps × periodMs per count). Throws with the probe's message when it cannot run.
 */
export function measureWakeLateness(procs: number[], sleeps = 30, periodMs = 10): WakeLateness[] {
  const bin = compileCached(path.join('bench', 'wake-lateness.c'), 'cc', ['-Wall']);
  return procs.map((p) => {
    const r = spawnSync(bin, [String(p), String(sleeps), String(periodMs)], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`wake-lateness ${p}: ${(r.stderr || r.error?.message || '').trim()}`);
    const out = JSON.parse(r.stdout) as WakeLateness;
    return { procs: out.procs, medianUs: out.medianUs, p75Us: out.p75Us };
  });
}

/** "0.17 ms alone, 0.21 ms 8 at once": how late the machine's sleepers wake, for a report. */
export function wakeLateText(w: WakeLateness[]): string {
  return w
    .map((x) => `${(x.medianUs / 1000).toFixed(2)} ms ${x.procs === 1 ? 'alone' : `${x.procs} at once`}`)
    .join(', ');
}

/** The machine fields of a record that carries them (results of before have none). */
export function machineOf(x: Partial<Machine>): Partial<Machine> {
  const { cpuModel, kernel, bootId, wakeLate } = x;
  return {
    ...(cpuModel ? { cpuModel } : {}),
    ...(kernel ? { kernel } : {}),
    ...(bootId ? { bootId } : {}),
    ...(wakeLate?.length ? { wakeLate } : {}),
  };
}
