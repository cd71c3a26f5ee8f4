// Where the ranks of a benchmark run go: node order and mapping for a placement, the site map the
// shim is told, and the benchmark program and shim library the runs use.
import crypto from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { compileMpi } from '../../src/mpi/toolchain.js';
import type { TestbedState } from '../../src/testbed/index.js';
import type { Placement } from './types.js';

/** Compiles osu_coll.c with mpicc (cached by content); returns the binary. */
export function buildOsuColl(): string {
  return compileMpi(path.join('bench', 'collectives', 'osu_coll.c'), ['-Wall']);
}

/** Copies the shim library to a private place (by content); returns the copy. */
export function snapshotShim(lib: string): { path: string; sha1: string; mtime: string } {
  const data = readFileSync(lib);
  const sha1 = crypto.createHash('sha1').update(data).digest('hex');
  const dir = path.join(os.tmpdir(), 'sitempi-bench-coll-bin');
  mkdirSync(dir, { recursive: true });
  const copy = path.join(dir, `libsitempi-${sha1.slice(0, 12)}.so`);
  if (!existsSync(copy)) {
    const tmp = `${copy}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o755 });
    renameSync(tmp, copy);
  }
  return { path: copy, sha1, mtime: statSync(lib).mtime.toISOString() };
}
/** "A:0-3;B:4-7" or "A:0,2,4,6;B:1,3,5,7" from the site of each rank. */
export function sitesEnv(rankSites: string[]): string {
  const sites = [...new Set(rankSites)];
  return sites
    .map((s) => {
      const ranks = rankSites.flatMap((x, r) => (x === s ? [r] : []));
      const parts: string[] = [];
      for (let i = 0; i < ranks.length;) {
        let j = i;
        while (j + 1 < ranks.length && (ranks[j + 1] as number) === (ranks[j] as number) + 1) j++;
        parts.push(j > i + 1 ? `${ranks[i]}-${ranks[j]}` : j === i + 1 ? `${ranks[i]},${ranks[j]}` : `${ranks[i]}`);
        i = j + 1;
      }
      return `${s}:${parts.join(',')}`;
    })
    .join(';');
}

interface Launch {
  nodes: string[];
  mapBy: 'slot' | 'node';
  hosts: string[];
  rankSites: string[];
}

/**
 * Node order and mapping for a placement, and the host and site of every rank as Open MPI will
 * map them (checked against what the program reports).
 * contiguous: nodes of A then B, by slot (ranks 0..P/2−1 at A);
 * interleaved: nodes alternate A, B, …; one slot per node → by slot, else by node (round robin),
 * so that even ranks are at A and odd ranks at B.
 */
export function planLaunch(st: TestbedState, placement: Placement): Launch {
  const bySite = st.sites.map((s) => st.nodes.filter((n) => n.site === s));
  let order = bySite.flat();
  if (placement === 'interleaved') {
    order = [];
    const most = Math.max(...bySite.map((l) => l.length));
    for (let i = 0; i < most; i++) for (const l of bySite) if (l[i]) order.push(l[i] as (typeof order)[number]);
  }
  const slotsEach = order.map((n) => n.slots);
  const oneSlot = slotsEach.every((s) => s === 1);
  const mapBy: 'slot' | 'node' = placement === 'interleaved' && !oneSlot ? 'node' : 'slot';
  const hosts: string[] = [];
  const rankSites: string[] = [];
  if (mapBy === 'slot') {
    for (const n of order)
      for (let k = 0; k < n.slots; k++) {
        hosts.push(n.host);
        rankSites.push(n.site);
      }
  } else {
    const left = [...slotsEach];
    while (left.some((x) => x > 0)) {
      order.forEach((n, i) => {
        if ((left[i] as number) > 0) {
          hosts.push(n.host);
          rankSites.push(n.site);
          left[i] = (left[i] as number) - 1;
        }
      });
    }
  }
  return { nodes: order.map((n) => n.name), mapBy, hosts, rankSites };
}
