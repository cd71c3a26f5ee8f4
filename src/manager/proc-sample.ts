// One node's CPU load and memory from /proc: what its agent reports every few seconds.
import fs from 'node:fs';
import type { UsageSample } from './node-usage.js';

export interface CpuTimes {
  busy: number;
  total: number;
}

/** The aggregate "cpu" line of /proc/stat: busy = all but idle and iowait. */
export function parseProcStat(text: string): CpuTimes {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no cpu line');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((s, x) => s + (x || 0), 0);
  const idle = (v[3] || 0) + (v[4] || 0);
  return { busy: total - idle, total };
}

export function parseMeminfo(text: string): { usedBytes: number; totalBytes: number } {
  const kb = (k: string) => {
    const m = new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text);
    if (!m) throw new Error(`/proc/meminfo has no ${k}`);
    return Number(m[1]) * 1024;
  };
  const total = kb('MemTotal');
  return { usedBytes: total - kb('MemAvailable'), totalBytes: total };
}

/** Samples /proc; `prev` is the CPU times of the previous sample (the busy share is since then). */
export function sampleProc(prev: CpuTimes | null): { sample: UsageSample; cpu: CpuTimes } {
  const cpu = parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
  const mem = parseMeminfo(fs.readFileSync('/proc/meminfo', 'utf8'));
  const load1 = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(/\s+/)[0]) || 0;
  const dt = prev ? cpu.total - prev.total : 0;
  const cpuBusy = dt > 0 ? Math.min(1, Math.max(0, (cpu.busy - prev!.busy) / dt)) : 0;
  return { sample: { load1, cpuBusy, memUsedBytes: mem.usedBytes, memTotalBytes: mem.totalBytes }, cpu };
}
