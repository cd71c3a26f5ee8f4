// METIS as the reference: the graph written in its format, `gpmetis` run on it, its edge cut,
// its own partitioning time (without file I/O), its wall time and its partition read back.
//
// Capacities map onto METIS's balance constraint as follows: target weights
// tpwgts[s] = cap[s] / sum(cap), and ufactor = floor(1000 x (sum(cap) / ranks - 1)), so that
// METIS's bound tpwgts[s] x ranks x (1 + ufactor / 1000) is at most cap[s]: METIS may fill each
// site up to, never past, its capacity (the loads it returns are checked all the same).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Graph } from '../../src/partition/graph.js';

export interface MetisResult {
  part: Int32Array;
  /** The edge cut gpmetis reports. */
  cut: number;
  /** gpmetis's own "Partitioning" time, seconds (3 decimals: 0.000 below a millisecond). */
  metisSeconds: number;
  /** Wall time of the gpmetis process, reading and writing its files included. */
  wallSeconds: number;
  ufactor: number;
}

export function gpmetisAvailable(): boolean {
  const r = spawnSync('gpmetis', ['-help'], { encoding: 'utf8' });
  return r.error === undefined && /Usage: gpmetis/.test(r.stdout + r.stderr);
}

/** The graph in METIS's text format (edge weights only: fmt 001; weights must be integers). */
export function metisGraphText(g: Graph): string {
  const lines: string[] = [`${g.n} ${g.xadj[g.n] / 2} 001`];
  for (let v = 0; v < g.n; v++) {
    const row: number[] = [];
    for (let j = g.xadj[v]; j < g.xadj[v + 1]; j++) {
      const w = g.adjwgt[j];
      if (!Number.isInteger(w) || w < 1 || w > 0x7fffffff)
        throw new Error(`metis: edge weight ${w} is not a 32-bit integer >= 1`);
      row.push(g.adjncy[j] + 1, w);
    }
    lines.push(row.join(' '));
  }
  return `${lines.join('\n')}\n`;
}

/** METIS's ufactor for capacities summing to sumCap over `ranks` ranks. */
export function ufactorFor(sumCap: number, ranks: number): number {
  return Math.max(0, Math.floor(1000 * (sumCap / ranks - 1) + 1e-9));
}

/** Runs gpmetis (k-way, the given seed) on g with the capacities mapped as said above. */
export function runGpmetis(g: Graph, caps: number[], seed = 1, graphText?: string): MetisResult {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sitempi-metis-'));
  try {
    const file = path.join(dir, 'g.graph');
    writeFileSync(file, graphText ?? metisGraphText(g));
    const sumCap = caps.reduce((a, b) => a + b, 0);
    const tp = path.join(dir, 'tpwgts');
    writeFileSync(tp, caps.map((c, s) => `${s} = ${(c / sumCap).toFixed(7)}`).join('\n') + '\n');
    const ufactor = ufactorFor(sumCap, g.n);
    const args = ['-ptype=kway', `-ufactor=${ufactor}`, `-tpwgts=${tp}`, `-seed=${seed}`, file, String(caps.length)];
    const t0 = process.hrtime.bigint();
    const r = spawnSync('gpmetis', args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.error) throw r.error;
    const cut = /Edgecut:\s*(\d+)/.exec(r.stdout);
    const time = /Partitioning:\s*([\d.]+)\s*sec/.exec(r.stdout);
    if (r.status !== 0 || !cut || !time) throw new Error(`gpmetis ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
    const text = readFileSync(`${file}.part.${caps.length}`, 'utf8');
    const part = Int32Array.from(text.trim().split('\n'), Number);
    if (part.length !== g.n) throw new Error(`gpmetis wrote ${part.length} parts for ${g.n} vertices`);
    return { part, cut: Number(cut[1]), metisSeconds: Number(time[1]), wallSeconds, ufactor };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
