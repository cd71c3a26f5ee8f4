// What the nodes' agents report: CPU load and memory in use per node, and whether a node still
// reports. A node that misses `staleAfter` samples in a row is stale (not lost: its jobs keep
// running, it only gets no new ones); it is fresh again with its next sample.

export interface UsageSample {
  /** /proc/loadavg: 1-minute load average. */
  load1: number;
  /** Share of CPU time busy since the previous sample (0..1), from /proc/stat. */
  cpuBusy: number;
  /** MemTotal − MemAvailable and MemTotal of /proc/meminfo, bytes. */
  memUsedBytes: number;
  memTotalBytes: number;
}

export type NodeHealth = 'unknown' | 'fresh' | 'stale';

interface Entry {
  sample: UsageSample;
  at: number;
  intervalMs: number;
  stale: boolean;
}

export const DEFAULT_STALE_AFTER = 3;

export class NodeUsage {
  private readonly last = new Map<string, Entry>();

  constructor(private readonly staleAfter = DEFAULT_STALE_AFTER) {}

  /** Records a sample; true when it makes a stale node fresh again. */
  record(node: string, sample: UsageSample, intervalMs: number, now: number): boolean {
    const was = this.last.get(node);
    this.last.set(node, { sample, at: now, intervalMs, stale: false });
    return was?.stale === true;
  }

  /** Marks the nodes that missed their samples; returns those that became stale just now. */
  check(now: number): string[] {
    const out: string[] = [];
    for (const [node, e] of this.last)
      if (!e.stale && now - e.at > this.staleAfter * e.intervalMs) {
        e.stale = true;
        out.push(node);
      }
    return out;
  }

  health(node: string): NodeHealth {
    const e = this.last.get(node);
    return !e ? 'unknown' : e.stale ? 'stale' : 'fresh';
  }

  /** The last sample and its age, ms. */
  latest(node: string, now: number): (UsageSample & { ageMs: number }) | null {
    const e = this.last.get(node);
    return e ? { ...e.sample, ageMs: now - e.at } : null;
  }
}

/** Checks a sample received from a client: finite, non-negative numbers, or an error. */
export function checkSample(v: unknown): UsageSample {
  const o = v as Record<string, unknown> | null;
  const num = (k: string, max = Number.MAX_SAFE_INTEGER) => {
    const x = o?.[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max) throw new Error(`sample: bad ${k}`);
    return x;
  };
  return {
    load1: num('load1'),
    cpuBusy: num('cpuBusy', 1),
    memUsedBytes: num('memUsedBytes'),
    memTotalBytes: num('memTotalBytes'),
  };
}
