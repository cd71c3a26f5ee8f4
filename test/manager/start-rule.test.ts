// The live manager's start rule for a network-intensive job that only a free site could hold: the
// split run's loss from the name's last run in a real history database, against the wait for room
// from the running jobs' remaining times.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/history/store.js';
import { Cluster } from '../../src/manager/cluster.js';
import type { JobRecord } from '../../src/manager/job-record.js';
import { choosePlacement } from '../../src/manager/placement.js';
import { waitForRoom } from '../../src/manager/planner-place.js';
import { lastTraffic, releasesOf, splitLoss, waitRather } from '../../src/manager/start-rule.js';
import { run } from './history-entry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// the seed's shape at this machine's scale: A with 6 nodes, B with 2, 10 ms apart
function cluster(): Cluster {
  return new Cluster({
    sites: ['A', 'B'],
    nodes: [
      ...[0, 1, 2, 3, 4, 5].map((i) => ({ name: `a${i}`, site: 'A', host: 'h', slots: 1 })),
      ...[0, 1].map((i) => ({ name: `b${i}`, site: 'B', host: 'h', slots: 1 })),
    ],
    links: [
      { from: 'A', to: 'B', latencyMs: 5, bandwidthBps: 1e9 },
      { from: 'B', to: 'A', latencyMs: 5, bandwidthBps: 1e9 },
    ],
  });
}

// a wavefront's last run: 4 ranks, 60 s, 20 000 messages (each a WAN round trip when split)
const lu = { ranks: 4, wallSeconds: 60, bytes: 2e8, messages: 20_000, mpiFraction: 0.8 };

describe('start rule of the live manager', () => {
  it("charges a split run the past run's crossing traffic at the link's latency and bandwidth", () => {
    const link = { latency: 0.005, bandwidth: 1e9 };
    expect(splitLoss(lu, [4, 0], link)).toBe(0);
    const half = splitLoss(lu, [2, 2], link);
    // crossFraction of 2 + 2: 1 - (2² + 2²) / 4² of the traffic crosses
    const f = 0.5;
    const expected =
      ((lu.bytes * f) / lu.wallSeconds / (1e9 / 8) + ((lu.messages * f) / lu.wallSeconds / 4) * 0.005) * 60;
    expect(half).toBeCloseTo(expected, 6);
    expect(splitLoss(lu, [2, 2], { latency: 0.05, bandwidth: 1e9 })).toBeGreaterThan(half);
    // capped at the job's time in MPI
    expect(splitLoss(lu, [2, 2], { latency: 5, bandwidth: 1e9 })).toBeCloseTo(0.8 * 60, 6);
  });

  it('finds the wait for a site that can hold the job from the running jobs ends', () => {
    const sites = [
      { site: 'A', capacity: 6, free: 2 },
      { site: 'B', capacity: 2, free: 2 },
    ];
    expect(waitForRoom(4, sites, [{ site: 'A', slots: 4, inSeconds: 30 }])).toBe(30);
    expect(
      waitForRoom(4, sites, [
        { site: 'A', slots: 1, inSeconds: 5 },
        { site: 'A', slots: 1, inSeconds: 12 },
        { site: 'A', slots: 2, inSeconds: 40 },
      ]),
    ).toBe(12);
    expect(waitForRoom(4, sites, [{ site: 'A', slots: 4, inSeconds: NaN }])).toBeNaN(); // no estimate
    expect(
      waitForRoom(4, sites, [
        { site: 'A', slots: 2, inSeconds: 7 },
        { site: 'A', slots: 1, inSeconds: NaN },
      ]),
    ).toBe(7);
    expect(waitForRoom(4, sites, [{ site: 'B', slots: 4, inSeconds: 1 }])).toBe(Infinity); // B holds only 2
    expect(waitForRoom(2, sites, [])).toBe(0);
  });

  it('starts split when the wait is longer than the loss, waits when it is shorter, and waits knowing nothing', () => {
    const c = cluster();
    c.allocate(
      'ep',
      ['a0', 'a1', 'a2', 'a3'].map((node) => ({ node, slots: 1 })),
    );
    const split = choosePlacement(c, 4, null)!; // where it fits now: 2 on A, 2 on B
    expect(split.map((s) => s.node).sort()).toEqual(['a4', 'a5', 'b0', 'b1']);
    const lost = splitLoss(lu, [2, 2], { latency: 0.005, bandwidth: 1e9 });
    expect(lost).toBeGreaterThan(1);
    const ep = (inSeconds: number) => [{ site: 'A', slots: 4, inSeconds }];
    expect(waitRather(c, split, 4, lu, ep(lost * 4))).toBe(false);
    expect(waitRather(c, split, 4, lu, ep(lost / 4))).toBe(true);
    expect(waitRather(c, split, 4, null, ep(1e6))).toBe(true); // no past run: wait, as before
    expect(waitRather(c, split, 4, lu, ep(NaN))).toBe(true); // no estimate for EP: wait
    // through choosePlacement with a network hint
    const rule = (inSeconds: number) => (s: typeof split) => waitRather(c, s, 4, lu, ep(inSeconds));
    expect(choosePlacement(c, 4, 'network', () => true, rule(lost * 4))?.length).toBe(4);
    expect(choosePlacement(c, 4, 'network', () => true, rule(lost / 4))).toBeNull();
    expect(choosePlacement(c, 4, 'network')).toBeNull(); // without the rule: waits
  });

  it("reads the name's last run from a real history database and the running jobs' releases", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smstart-'));
    dirs.push(dir);
    const store = HistoryStore.open(path.join(dir, 'history.db'));
    store.write(run('lu', 'lu-1', 'network-intensive', 1_000_000));
    store.write({ ...run('lu', 'lu-2', 'network-intensive', 2_000_000), messages: 777, wallSeconds: 9 });
    expect(lastTraffic(store, 'lu')).toEqual({ ranks: 4, wallSeconds: 9, bytes: 1e6, messages: 777, mpiFraction: 0.2 });
    expect(lastTraffic(store, 'cg')).toBeNull();
    expect(lastTraffic(undefined, 'lu')).toBeNull();
    store.close();
    expect(lastTraffic(store, 'lu')).toBeNull(); // closed: no throw, no traffic
    const rec = (remaining?: { seconds: number; at: number }) =>
      ({
        nodes: [
          { node: 'a0', slots: 1, site: 'A' },
          { node: 'a1', slots: 1, site: 'A' },
          { node: 'b0', slots: 1, site: 'B' },
        ],
        remaining: remaining && { ...remaining, source: 'history', detail: '' },
      }) as unknown as JobRecord;
    expect(releasesOf([rec({ seconds: 30, at: 10_000 })], 20_000)).toEqual([
      { site: 'A', slots: 2, inSeconds: 20 },
      { site: 'B', slots: 1, inSeconds: 20 },
    ]);
    expect(releasesOf([rec()], 0).map((r) => r.inSeconds)).toEqual([NaN, NaN]);
  });
});
