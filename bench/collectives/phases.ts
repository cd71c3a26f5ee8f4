// The harness side of osu_coll's counted phases: wanemu's counters read around a phase of exactly
// `calls` back-to-back collective calls, once the network has fallen silent before and after.
import { readdirSync, readFileSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';

import { counters, countersDelta, type CountersSnapshot } from '../../src/testbed/index.js';
import type { CollName } from './bounds.js';
import type { PhaseCount } from './types.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Files in `dir` whose names start with `prefix`. */
function countFiles(dir: string, prefix: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) if (f.startsWith(prefix)) n++;
  return n;
}

/**
 * Waits until `dir` holds `n` files named `prefix…` (true) or `stop()` holds (false). It looks when
 * a file appears there (inotify, through fs.watch) and every `fallbackMs`, never in a tight loop:
 * the wait for a phase's ready files spans the ranks' timing of the next point, where polling
 * every 2 ms woke the harness 500 times a second on the cores the ranks share.
 */
export function waitForFiles(
  dir: string,
  prefix: string,
  n: number,
  stop: () => boolean,
  fallbackMs = 100,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let settled = false;
    const timer = setInterval(() => check(), fallbackMs);
    const settle = (): void => {
      settled = true;
      clearInterval(timer);
      watcher?.close();
    };
    const check = (): void => {
      if (settled) return;
      let all: boolean;
      try {
        all = countFiles(dir, prefix) >= n;
      } catch (e) {
        settle(); // the directory is gone: the caller's error, not an uncaught one in a timer
        reject(e as Error);
        return;
      }
      if (!all && !stop()) return;
      settle();
      resolve(all);
    };
    try {
      watcher = watch(dir, check);
      watcher.on('error', () => watcher?.close()); // the interval goes on alone
    } catch {
      // no inotify here: the interval alone
    }
    check(); // files that came before the watch
  });
}

function crossTotals(c: CountersSnapshot, sites: string[]): { bytes: number; packets: number } {
  let bytes = 0;
  let packets = 0;
  for (const l of c.links) {
    if (l.from === l.to || !sites.includes(l.from) || !sites.includes(l.to)) continue;
    bytes += l.bytes;
    packets += l.packets;
  }
  return { bytes, packets };
}

/**
 * Waits until no packet has crossed between sites for `silentMs` (polling every 10 ms), at most
 * `limitMs`; returns the last snapshot, the wait, and whether it fell silent.
 */
async function quiet(
  stateDir: string,
  sites: string[],
  silentMs = 40,
  limitMs = 1500,
): Promise<{ snap: CountersSnapshot; waitedMs: number; silent: boolean }> {
  const t0 = Date.now();
  let snap = await counters({ stateDir });
  let last = crossTotals(snap, sites);
  let since = Date.now();
  for (;;) {
    await sleep(10);
    const s = await counters({ stateDir });
    const tot = crossTotals(s, sites);
    snap = s;
    if (tot.bytes !== last.bytes || tot.packets !== last.packets) {
      last = tot;
      since = Date.now();
    } else if (Date.now() - since >= silentMs) {
      return { snap, waitedMs: Date.now() - t0, silent: true };
    }
    if (Date.now() - t0 > limitMs) return { snap, waitedMs: Date.now() - t0, silent: false };
  }
}

/**
 * The harness side of osu_coll's counted phases (see osu_coll.c): for phase k, wait for
 * ready.k.* of every rank, let the network fall silent, snapshot, create go.k; wait for done.k.*,
 * let it fall silent, snapshot, create next.k. Runs until `stop()` says the job has ended.
 */
export async function serveCountedPhases(
  dir: string,
  np: number,
  stateDir: string,
  sites: string[],
  stop: () => boolean,
  onPhase: (p: PhaseCount) => void,
): Promise<void> {
  const waitAll = (prefix: string): Promise<boolean> => waitForFiles(dir, prefix, np, stop);
  for (let k = 0; ; k++) {
    if (!(await waitAll(`ready.${k}.`))) return;
    const phase = JSON.parse(readFileSync(path.join(dir, `ready.${k}.0`), 'utf8')) as {
      phase: number;
      coll: CollName;
      bytes: number;
      calls: number;
    };
    const before = await quiet(stateDir, sites);
    writeFileSync(path.join(dir, `go.${k}`), '');
    if (!(await waitAll(`done.${k}.`))) return;
    const after = await quiet(stateDir, sites);
    writeFileSync(path.join(dir, `next.${k}`), '');
    const links = countersDelta(before.snap, after.snap)
      .filter((l) => l.from !== l.to && sites.includes(l.from) && sites.includes(l.to))
      .map(({ from, to, bytes, packets, dropPackets }) => ({ from, to, bytes, packets, dropPackets }));
    const bytes = links.reduce((a, l) => a + l.bytes, 0);
    const packets = links.reduce((a, l) => a + l.packets, 0);
    onPhase({
      phase: k,
      coll: phase.coll,
      bytes: phase.bytes,
      calls: phase.calls,
      links,
      crossBytesPerCall: bytes / phase.calls,
      crossPacketsPerCall: packets / phase.calls,
      quietBeforeMs: before.waitedMs,
      quietAfterMs: after.waitedMs,
      noisy: !before.silent || !after.silent,
    });
  }
}
