// The machine a benchmark ran on, written into its results so that figures from several runs show
// how many machines they span: the CPU model, the kernel release and the boot id (a new one after
// each boot: a new VM, or the same one restarted); for the collective benchmark also how late its
// processes wake from a sleep (bench/wake-lateness.c), which is inside every figure it measures,
// and what a system call costs (bench/syscall-cost.c), which marks the host's state.
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

/** ns per system call: one that does nothing in the kernel, and a sched_yield alone on its core. */
export interface SyscallCost {
  getppidNs: number;
  schedYieldNs: number;
}

export interface Machine {
  cpuModel?: string;
  kernel: string;
  bootId?: string;
  wakeLate?: WakeLateness[];
  syscall?: SyscallCost;
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

/** What a system call costs now (about 0.4 s where one takes 1 µs: 9 rounds of both calls). Throws with the
 * probe's message when it cannot run. */
export function measureSyscallCost(calls = 20000): SyscallCost {
  const bin = compileCached(path.join('bench', 'syscall-cost.c'), 'cc', ['-Wall']);
  const r = spawnSync(bin, [String(calls)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`syscall-cost: ${(r.stderr || r.error?.message || '').trim()}`);
  const out = JSON.parse(r.stdout) as SyscallCost;
  return { getppidNs: out.getppidNs, schedYieldNs: out.schedYieldNs };
}

/** "system calls 1.01 µs (sched_yield 1.25 µs)", for a report. */
export function syscallText(s: SyscallCost): string {
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
  return `system calls ${us(s.getppidNs)} (sched_yield ${us(s.schedYieldNs)})`;
}

/** "0.17 ms alone, 0.21 ms 8 at once": how late the machine's sleepers wake, for a report. */
export function wakeLateText(w: WakeLateness[]): string {
  return w
    .map((x) => `${(x.medianUs / 1000).toFixed(2)} ms ${x.procs === 1 ? 'alone' : `${x.procs} at once`}`)
    .join(', ');
}

/** The machine fields of a record that carries them (results of before have none). */
export function machineOf(x: Partial<Machine>): Partial<Machine> {
  const { cpuModel, kernel, bootId, wakeLate, syscall } = x;
  return {
    ...(cpuModel ? { cpuModel } : {}),
    ...(kernel ? { kernel } : {}),
    ...(bootId ? { bootId } : {}),
    ...(wakeLate?.length ? { wakeLate } : {}),
    ...(syscall ? { syscall } : {}),
  };
}
