// `sitempi run` of a job the policy may relocate on the network-namespace testbed: the arguments
// the relocation bench, the dashboard screenshots and the history's testbed test all use.
import { findNode, type TestbedState } from '../../src/testbed/state.js';

/** The hosts of the testbed nodes `names`, in that order. */
export function nodeHosts(st: TestbedState, names: string[]): string[] {
  return names.map((n) => findNode(st, n).host);
}

/** a0,b0,a1,b1,...: consecutive ranks on different sites, so that neighbours talk across the WAN. */
export function interleavedNodes(perSite: number): string[] {
  return Array.from({ length: perSite }, (_, i) => [`a${i}`, `b${i}`]).flat();
}

export interface RelocatingRun {
  stateDir: string;
  /** --site-capacity, e.g. A=8,B=8 */
  siteCapacity: string;
  /** --min-observe seconds */
  minObserve: number;
  /** the JSON report's file */
  report: string;
  /** one rank on each, in rank order */
  hosts: string[];
  /** the program and its arguments */
  command: string[];
  /** more options of `sitempi run` */
  extra?: string[];
}

/** The arguments of `sitempi run` (from "run" on) for a job placed by --relocate auto on the testbed. */
export function relocatingRunArgs(r: RelocatingRun): string[] {
  return [
    'run',
    '--testbed-state',
    r.stateDir,
    '--relocate',
    'auto',
    '--site-capacity',
    r.siteCapacity,
    '--min-observe',
    String(r.minObserve),
    '--vm-memory',
    '64MiB',
    ...(r.extra ?? []),
    '--json',
    '--report',
    r.report,
    '--no-progress',
    '-np',
    String(r.hosts.length),
    '--host',
    r.hosts.join(','),
    '--map-by',
    'node',
    '--',
    ...r.command,
  ];
}
