// Host names that reach an executor. Ranks name their host in Hello, so any client holding the
// monitor's token can claim any string: only names of the strict RFC 1123 grammar (labels of
// letters, digits and inner '-', 1-63 characters, joined by '.', 253 at most) go to a hook.
import type { JobInfo } from './executor.js';

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export function isHostname(name: string): boolean {
  return name.length > 0 && name.length <= 253 && name.split('.').every((l) => LABEL.test(l));
}

/** Why the job's host names cannot go to an executor (the first bad one), or null when all are valid. */
export function badHostname(job: JobInfo): string | null {
  for (let r = 0; r < job.size; r++) {
    const h = job.hosts[r] ?? '';
    if (!h) return `rank ${r}'s host is unknown (no Hello yet)`;
    if (!isHostname(h))
      return `rank ${r} names its host ${JSON.stringify(h.length > 64 ? `${h.slice(0, 64)}...` : h)}, not a valid host name (letters, digits, '-' and '.')`;
  }
  return null;
}
