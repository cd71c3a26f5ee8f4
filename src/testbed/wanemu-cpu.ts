// wanemu's CPU time, read from /proc/PID/stat (user + system, in clock ticks): how much of one
// core the emulator used over a span, so that a benchmark can tell whether the emulated WAN or
// the emulator's own CPU decided its figures.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 0;

function clockTicks(): number {
  if (ticksPerSecond === 0) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const v = Number((r.stdout ?? '').trim());
    ticksPerSecond = Number.isFinite(v) && v > 0 ? v : 100; // USER_HZ is 100 on Linux
  }
  return ticksPerSecond;
}

export interface CpuSample {
  /** utime + stime, seconds. */
  cpuS: number;
  /** Date.now() of the reading. */
  atMs: number;
}

/** A process's CPU time now, or null when it is gone or unreadable. */
export function cpuSample(pid: number): CpuSample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { cpuS: (utime + stime) / clockTicks(), atMs: Date.now() };
}

export interface CpuSpan {
  cpuS: number;
  wallS: number;
  /** cpuS / wallS: the share of one core (1 = one core busy all the time). */
  share: number;
}

/** CPU used between two samples of one process (null when either is missing or the span is empty). */
export function cpuSpan(a: CpuSample | null, b: CpuSample | null): CpuSpan | null {
  if (!a || !b || b.atMs <= a.atMs) return null;
  const cpuS = Math.round(Math.max(0, b.cpuS - a.cpuS) * 1e6) / 1e6; // whole ticks, without float dust
  const wallS = (b.atMs - a.atMs) / 1000;
  return { cpuS, wallS, share: cpuS / wallS };
}
