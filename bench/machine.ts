// The machine a benchmark ran on, written into its results so that figures from several runs show
// how many machines they span: the CPU model, the kernel release and the boot id (a new one after
// each boot: a new VM, or the same one restarted).
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpuModel?: string;
  kernel: string;
  bootId?: string;
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

/** The machine fields of a record that carries them (results of before have none). */
export function machineOf(x: Partial<Machine>): Partial<Machine> {
  const { cpuModel, kernel, bootId } = x;
  return {
    ...(cpuModel ? { cpuModel } : {}),
    ...(kernel ? { kernel } : {}),
    ...(bootId ? { bootId } : {}),
  };
}
